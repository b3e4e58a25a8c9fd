// node-postgres (npm package pg) for agent/gateway's protocol fidelity
// tests. Usage: node fidelity.js SCENARIO CONFIG_JSON. It prints one JSON
// object a line on stdout and takes commands a line on stdin, so the Go
// test decides when things happen (no timers here).
//
//   pid:       connect; print {pid, backend}; once the connection is ended
//              (by the server, e.g. pg_terminate_backend) print {ended,
//              errors}: the errors the idle client got before it closed.
//   pool:      pg.Pool of 1; print {pid} of its idle client; print
//              {poolError} when the pool drops it; then print {pid2} of a
//              query on a new client.
//   cancel:    connect; start select pg_sleep(30); on "cancel" send a
//              CancelRequest (Client.cancel) and print {error} of the query,
//              then {ok} of select 1 on the same connection.
'use strict'
const pg = require('pg')
const readline = require('readline')

const [scenario, raw] = process.argv.slice(2)
const config = JSON.parse(raw)
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const lines = readline.createInterface({ input: process.stdin })
const waiters = []
lines.on('line', (l) => { const w = waiters.shift(); if (w) w(l.trim()) })
const next = () => new Promise((resolve) => waiters.push(resolve))
const errInfo = (e) => ({ code: e.code, severity: e.severity, message: e.message })

async function pid () {
  const c = new pg.Client(config)
  const errors = []
  c.on('error', (e) => errors.push(errInfo(e)))
  const ended = new Promise((resolve) => c.on('end', resolve))
  await c.connect()
  const r = await c.query('select pg_backend_pid() as p')
  out({ pid: c.processID, backend: r.rows[0].p })
  await ended
  out({ ended: true, errors })
}

async function pool () {
  const p = new pg.Pool({ ...config, max: 1 })
  const dropped = new Promise((resolve) => p.on('error', (e) => resolve(e)))
  const c = await p.connect()
  out({ pid: c.processID })
  c.release()
  const e = await dropped
  out({ poolError: errInfo(e) })
  const r = await p.query('select pg_backend_pid() as p')
  out({ pid2: r.rows[0].p })
  await p.end()
}

async function cancel () {
  const c = new pg.Client(config)
  await c.connect()
  out({ pid: c.processID })
  const q = c.query('select pg_sleep(30)')
  const running = c.activeQuery
  await next()
  new pg.Client(config).cancel(c, running)
  try {
    await q
    out({ ok: true })
  } catch (e) {
    out({ error: errInfo(e) })
  }
  await c.query('select 1')
  out({ ok: true })
  await c.end()
}

const scenarios = { pid, pool, cancel }
scenarios[scenario]().then(() => process.exit(0), (e) => { out({ fatal: String(e && e.stack || e) }); process.exit(1) })
