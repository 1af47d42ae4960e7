// graphile-worker's no-op load, measured the way its own performance test does it (bulk
// enqueue in SQL, then a worker drains the queue), plus its single add_job rate: the peer's
// figures for the comparison in bench/README.md (bench/peers/graphile/run runs this).
//
// Environment: DATABASE_URL, JOBS (bulk jobs, default 20000), CONCURRENCY (worker, default
// 24, as graphile-worker's perfTest), SINGLE_JOBS (add_job calls, default 20000),
// SINGLE_CLIENTS (concurrent add_job callers, default 16). Prints one JSON object.
"use strict";

const { run, makeWorkerUtils, Logger } = require("graphile-worker");
const { Pool } = require("pg");

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const connectionString = process.env.DATABASE_URL;
const jobs = env("JOBS", 20000);
const concurrency = env("CONCURRENCY", 24);
const singleJobs = env("SINGLE_JOBS", 20000);
const singleClients = env("SINGLE_CLIENTS", 16);

const seconds = (from) => Number(process.hrtime.bigint() - from) / 1e9;

// Errors only: a line per job would cost more than the no-op job itself.
const logger = new Logger(() => (level, message) => {
  if (level === "error") console.error(message);
});

// The worker's settings of graphile-worker's own performance test (perfTest/graphile.config.js):
// a local queue that locks jobs 500 at a time, and completions batched as they come.
const preset = {
  worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
};

// Queues `count` no-op jobs with one call of add_jobs, graphile-worker's batch enqueue (one
// add_job per job instead runs at about 600 jobs/s here: each takes its own locks and notify).
async function enqueueInBulk(pool, count) {
  const started = process.hrtime.bigint();
  await pool.query(
    "SELECT graphile_worker.add_jobs(array_agg(json_populate_record(" +
      "null::graphile_worker.job_spec, json_build_object('identifier', 'noop', " +
      "'payload', json_build_object('id', i))))) FROM generate_series(1, $1::int) i",
    [count],
  );
  return seconds(started);
}

// Starts a worker and resolves with the seconds it took to run `count` jobs.
async function drain(count) {
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const started = process.hrtime.bigint();
  const runner = await run({
    connectionString,
    logger,
    preset,
    concurrency,
    maxPoolSize: concurrency + 2,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: {
      noop: async () => {
        if (++done === count) finish(seconds(started));
      },
    },
  });
  const took = await finished;
  await runner.stop();
  return took;
}

// `count` add_job calls from `clients` concurrent callers: the single-request ingest figure.
async function addOneByOne(utils, count, clients) {
  let next = 0;
  const started = process.hrtime.bigint();
  const caller = async () => {
    while (next < count) {
      next += 1;
      await utils.addJob("noop", { id: next });
    }
  };
  await Promise.all(Array.from({ length: clients }, caller));
  return seconds(started);
}

async function main() {
  const utils = await makeWorkerUtils({ connectionString, logger, maxPoolSize: singleClients + 2 });
  await utils.migrate();
  const pool = new Pool({ connectionString, max: 2 });
  const enqueue = await enqueueInBulk(pool, jobs);
  const runOnly = await drain(jobs);
  const single = await addOneByOne(utils, singleJobs, singleClients);
  const singleRun = await drain(singleJobs);
  await pool.end();
  await utils.release();
  const round = (x) => Math.round(x);
  console.log(
    JSON.stringify({
      version: process.env.GRAPHILE_VERSION,
      jobs,
      concurrency,
      enqueue_seconds: enqueue,
      run_seconds: runOnly,
      run_only_per_second: round(jobs / runOnly),
      enqueue_then_run_per_second: round(jobs / (enqueue + runOnly)),
      single_add_job_calls: singleJobs,
      single_add_job_clients: singleClients,
      single_add_job_per_second: round(singleJobs / single),
      single_then_run_per_second: round(singleJobs / (single + singleRun)),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
