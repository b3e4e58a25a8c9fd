package embedded

// AgentClient is what a joined agent may do over the network: read the
// control and audit streams (stream info, ephemeral pull consumers, direct
// and stored-message gets; the audit read is how an agent without a spool
// finds the head of its own hash chain), publish audit events under
// auditPrefix and receive the acks and fetched messages on its inboxes.
// It may not publish to any other subject: no control events, no stream
// create/update/delete/purge, no message delete, no consumer listing.
//
// Limits of subject permissions: an agent may publish audit events under
// any source (the source is in the event, not the subject; audit verify
// still tells the chains apart), and it may configure the consumers it
// creates freely (the request body is not checked; a push consumer
// delivering onto a control subject is not stored, see the tests).
func AgentClient(name, controlStream, auditStream, auditPrefix string) Client {
	pub := []string{auditPrefix + ".>", "$JS.API.INFO"}
	for _, s := range []string{controlStream, auditStream} {
		pub = append(pub,
			"$JS.API.STREAM.INFO."+s,
			"$JS.API.STREAM.MSG.GET."+s,
			"$JS.API.DIRECT.GET."+s,
			"$JS.API.DIRECT.GET."+s+".>",
			"$JS.API.CONSUMER.CREATE."+s,
			"$JS.API.CONSUMER.CREATE."+s+".>",
			"$JS.API.CONSUMER.INFO."+s+".*",
			"$JS.API.CONSUMER.DELETE."+s+".*",
			"$JS.API.CONSUMER.MSG.NEXT."+s+".*",
			"$JS.ACK."+s+".>",
		)
	}
	return Client{
		Name:      name,
		Publish:   pub,
		Subscribe: []string{"_INBOX.>", "_TGACK.>"},
	}
}

// LeafAgentClient is what a leaf agent's NATS server may do across its
// leaf-node connection to the hub (hubDomain), its own JetStream being in
// agentDomain. Publish is what it may send into the hub: the requests of
// its mirror of the control stream (a push consumer with flow control),
// stream info and direct gets of both streams for its agent (how it finds
// what the hub has of its chain), and the messages the hub's source of its
// audit stream receives. Subscribe is what the hub may send it: the hub's
// requests to create and drop that source's consumer on the agent's audit
// stream, the mirrored control events, flow control, and replies. It may
// not publish audit or control events into the hub directly, nor reach any
// other stream's API or any other agent's domain.
func LeafAgentClient(name, hubDomain, agentDomain, controlStream, auditStream string) Client {
	hub, own := "$JS."+hubDomain+".API.", "$JS."+agentDomain+".API."
	pub := []string{
		hub + "INFO",
		hub + "CONSUMER.CREATE." + controlStream + ".>",
		hub + "CONSUMER.CREATE." + controlStream,
		hub + "CONSUMER.DELETE." + controlStream + ".*",
		"$JS.S.>", "$JS.FC.>", "$JSC.R.>",
	}
	for _, s := range []string{controlStream, auditStream} {
		pub = append(pub, hub+"STREAM.INFO."+s, hub+"DIRECT.GET."+s, hub+"DIRECT.GET."+s+".>", hub+"STREAM.MSG.GET."+s)
	}
	sub := []string{
		own + "INFO",
		own + "STREAM.INFO." + auditStream,
		own + "CONSUMER.CREATE." + auditStream + ".>",
		own + "CONSUMER.CREATE." + auditStream,
		own + "CONSUMER.DELETE." + auditStream + ".*",
		"$JS.M.>", "$JS.FC.>", "$JSC.R.>", "_INBOX.>",
	}
	return Client{Name: name, Publish: pub, Subscribe: sub}
}
