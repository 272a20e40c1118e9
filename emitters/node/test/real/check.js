'use strict';
// Holds what edpipe loaded against what really ran: per listenTo() call, the library's own
// return value and what each of its jobs wrote down. Returns the calls that are not right,
// each with why.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A multiset as sorted text, for equality. */
const bag = (items) => JSON.stringify(items.map((x) => JSON.stringify(x)).sort());

/**
 * @param {object[]} truth  the driver's records (call, job, chain)
 * @param {{invocations: object[], events: object[], jobs: object[], logs: object[]}} db
 * @returns {{calls: number, wrong: {eventId: string, scenario: string, why: string[]}[]}}
 */
function check(truth, db) {
  const by = (rows, key) => {
    const m = new Map();
    for (const r of rows ?? []) {
      const k = r[key];
      if (!m.has(k)) m.set(k, []);
      m.get(k).push(r);
    }
    return m;
  };
  const invocationsByEvent = by(db.invocations, 'event_id');
  const eventsByInv = by(db.events, 'inv');
  const jobsByInv = by(db.jobs, 'inv');
  const logsByJob = by(db.logs, 'job');
  const logsByInv = by(db.logs, 'inv');
  const jobTruth = by(truth.filter((r) => r.kind === 'job'), 'eventId');
  const jobByTag = new Map(truth.filter((r) => r.kind === 'job').map((r) => [r.tag, r]));
  const calls = truth.filter((r) => r.kind === 'call');
  const wrong = [];

  for (const call of calls) {
    const why = [];
    const invs = invocationsByEvent.get(call.eventId) ?? [];
    if (invs.length !== 1) {
      wrong.push({ eventId: call.eventId, scenario: call.scenario, why: [`${invs.length} invocations loaded`] });
      continue;
    }
    const inv = invs[0];
    if (call.timesOut && !call.result.timedOut) why.push('the library did not time out');
    const expectStatus = call.result.timedOut || call.result.error ? 'failed' : 'completed';
    if (inv.status !== expectStatus) why.push(`status ${inv.status}, the library returned ${expectStatus}`);
    if (inv.correlation_id !== call.correlationId) why.push(`correlation id ${inv.correlation_id}, the library used ${call.correlationId}`);
    if (UUID.test(call.passedCorrelationId ?? '') && inv.correlation_id !== call.passedCorrelationId)
      why.push(`correlation id ${inv.correlation_id}, the caller passed ${call.passedCorrelationId}`);
    if (call.sourceTag !== undefined) {
      const source = jobByTag.get(call.sourceTag);
      if (!source || inv.source_job_id !== source.jobExecutionId)
        why.push(`source_job_id ${inv.source_job_id}, caused by job ${source?.jobExecutionId}`);
    } else if (inv.source_job_id !== null) {
      why.push(`source_job_id ${inv.source_job_id} on a call nothing caused`);
    }

    const events = eventsByInv.get(inv.id) ?? [];
    const eventByName = new Map(events.map((e) => [e.name, e]));
    if (call.noModules) {
      if (events.length !== 0) why.push(`${events.length} events on a call that found no modules`);
    } else {
      const planned = Object.keys(call.plan);
      if (bag(events.map((e) => e.name)) !== bag(planned)) why.push(`events ${events.map((e) => e.name)} for ${planned}`);
      for (const [name, p] of Object.entries(call.plan)) {
        const e = eventByName.get(name);
        if (!e) continue;
        const reported = call.result.events.find((x) => x.name === name);
        let expect;
        if (p.detect === 'no') expect = 'not_detected';
        else if (p.detect === 'throw') expect = 'detection_failed';
        else if (p.handler !== 'ok') expect = 'handler_failed';
        else expect = 'completed';
        if (call.result.timedOut && expect === 'completed' && e.status === 'handling') expect = 'handling';
        if (e.status !== expect) why.push(`event ${name}: ${e.status}, expected ${expect}`);
        if (reported && reported.detected !== (e.status === 'completed'))
          why.push(`event ${name}: ${e.status}, the library reported detected=${reported.detected}`);
        if (expect === 'detection_failed' && !String(e.detection_error).includes(`detector of ${name} threw`))
          why.push(`event ${name}: detection error ${e.detection_error}`);
        if (expect === 'handler_failed' && !String(e.handler_error).includes(`handler of ${name} threw`))
          why.push(`event ${name}: handler error ${e.handler_error}`);
        // the library's jobs of a detected event: (name, ended well, result) each on its own row
        if (reported?.detected) {
          const rows = (jobsByInv.get(inv.id) ?? []).filter((j) => j.event === e.id);
          // (a failed job's name in the library's return is its function's name: the rows' names
          // of failed jobs are held against the jobs themselves, below)
          const got = bag(rows.map((j) => (j.status === 'completed' ? [j.name, j.status, j.tag] : [j.status])));
          const want = bag(reported.jobs.map((j) => (j.completed ? [j.name, 'completed', j.tag] : ['failed'])));
          if (got !== want) why.push(`event ${name}: jobs ${got}, the library returned ${want}`);
        }
      }
    }

    // every job that ran: its own row, its own end, its own lines, each once
    const ran = jobTruth.get(call.eventId) ?? [];
    const rows = jobsByInv.get(inv.id) ?? [];
    if (rows.length !== ran.length) why.push(`${rows.length} job rows for ${ran.length} jobs that ran`);
    const rowById = new Map(rows.map((j) => [j.id, j]));
    for (const job of ran) {
      const row = rowById.get(job.jobExecutionId);
      if (!row) {
        why.push(`job ${job.tag}: no row with the id it was handed (${job.jobExecutionId})`);
        continue;
      }
      const e = events.find((x) => x.id === row.event);
      if (row.name !== job.name || e?.name !== job.event) why.push(`job ${job.tag}: row says ${row.name} of ${e?.name}`);
      const aborted = job.tag.endsWith('.slow');
      const status = job.fail || aborted ? 'failed' : 'completed';
      if (row.status !== status) why.push(`job ${job.tag}: ${row.status}, expected ${status}`);
      if (status === 'completed' && row.tag !== job.tag) why.push(`job ${job.tag}: the end of ${row.tag}`);
      const lines = (logsByJob.get(row.id) ?? []).map((l) => l.message);
      if (bag(lines) !== bag(job.lines)) why.push(`job ${job.tag}: lines ${JSON.stringify(lines)}, it wrote ${JSON.stringify(job.lines)}`);
    }
    const stray = (logsByInv.get(inv.id) ?? []).filter((l) => !l.job || !rowById.has(l.job));
    if (stray.length > 0) why.push(`${stray.length} lines on no job of it: ${JSON.stringify(stray.slice(0, 3).map((l) => l.message))}`);
    if (why.length > 0) wrong.push({ eventId: call.eventId, scenario: call.scenario, why });
  }
  return { calls: calls.length, wrong };
}

module.exports = { check };
