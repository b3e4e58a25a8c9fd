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
