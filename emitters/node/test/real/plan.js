'use strict';
// What the event modules of the real-library tests do, read from the row of each call: the
// row carries a plan (per event: detect or not or throw; the handler's jobs, how long each
// runs, whether it fails, what it prints; whether the handler throws). Each job writes down
// what it did (its tag, the execution id it was handed, its lines) through `record`, so the
// test can hold every row edpipe loaded against what really ran.

let lib = null;
let record = () => {};

/** @param {object} library  the installed @hopdrive/hasura-event-detector */
function use(library, recorder) {
  lib = library;
  record = recorder;
}

// (0 ms: no timer at all, so a call costs only what the library and its plugins do)
const sleep = (ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
const planOf = (hasuraEvent, eventName) => hasuraEvent?.event?.data?.new?.plan?.[eventName];

async function runJob(event, hasuraEvent, options) {
  const spec = options.spec;
  const logger = lib.getJobLogger(hasuraEvent, options);
  const say = (how, text) => (how === 'console' ? console.log(text) : how === 'warn' ? console.warn(text) : logger.log(text));
  const first = [['console', `${spec.tag} console first`]];
  if (spec.logger) first.push(['logger', `${spec.tag} logger line`]);
  const middle = spec.warn ? [['warn', `${spec.tag} warn after a wait`]] : [];
  const last = spec.late ? [] : [['console', `${spec.tag} console last`]];
  const own = { kind: 'job', eventId: hasuraEvent.id, event, name: options.jobName, tag: spec.tag,
                jobExecutionId: options.jobExecutionId, correlationId: options.correlationId, fail: spec.fail,
                // (the job's logger prints a line, and hands it on, as `[job name] line`)
                lines: [...first, ...middle, ...last].map(([how, text]) => (how === 'logger' ? `[${options.jobName}] ${text}` : text)) };
  record(own);  // now: a job aborted by a timeout never returns
  for (const [how, text] of first) say(how, text);
  await sleep(spec.ms / 2);
  for (const [how, text] of middle) say(how, text);
  await sleep(spec.ms / 2);
  for (const [how, text] of last) say(how, text);
  // A job cut off by a timeout goes on running: this line comes after its end, so it is nobody's.
  if (spec.late) console.log(`${spec.tag} late line`);
  if (spec.chain) {
    record({ kind: 'chain', eventId: hasuraEvent.id, tag: spec.tag, how: spec.chain,
             token: spec.chain === 'token' ? lib.TrackingToken.forJob(hasuraEvent, options, 'edpipe-tests') : undefined,
             sourceJobId: spec.chain === 'option' ? options.jobExecutionId : undefined });
  }
  if (spec.fail) throw new Error(`${spec.tag} failed`);
  return { tag: spec.tag };
}

/** An event module whose detector and handler follow the row's plan for `eventName`. */
function eventModule(eventName) {
  return {
    detector: async (event, hasuraEvent) => {
      const plan = planOf(hasuraEvent, eventName);
      if (plan?.detect === 'throw') throw new Error(`detector of ${eventName} threw`);
      return plan?.detect === 'yes';
    },
    handler: async (event, hasuraEvent) => {
      const plan = planOf(hasuraEvent, eventName);
      if (plan.handler === 'throw-before') throw new Error(`handler of ${eventName} threw before its jobs`);
      const jobs = plan.jobs.map((spec) => lib.job(runJob, { jobName: spec.name, spec }));
      const results = await lib.run(event, hasuraEvent, jobs);
      if (plan.handler === 'throw-after') throw new Error(`handler of ${eventName} threw after its jobs`);
      return results;
    },
  };
}

module.exports = { use, eventModule };
