/**
 * Real requests that prove a service answers: a Kafka metadata request (kafkajs admin), ClickHouse
 * /ping + `SELECT 1`, Redis `PING` over RESP, Prometheus `/-/ready`. Each throws while not ready.
 */
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
// Before kafkajs: a process that loads this module first and runs the Kafka bus later (a test) must
// still get the bus's kafkajs patches, which apply only before kafkajs loads.
import '../../core/bus/kafkajs-crc.ts';
import '../../core/bus/kafkajs-send.ts';
import { Kafka, logLevel } from 'kafkajs';

const requestTimeoutMs = 3_000;

/** Rejects when `promise` has not settled within `ms` (a health check never hangs a caller). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** True when something accepts TCP connections on host:port. */
export function portOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Broker metadata (DescribeCluster via Metadata); fails unless a broker and an active controller answer.
 * `brokerIds`: the brokers the answering broker's metadata lists (registered and not fenced).
 */
export async function kafkaHealth(broker: string): Promise<{ brokers: number; brokerIds: number[]; controller: number | null }> {
  const kafka = new Kafka({
    clientId: 'pathpilot-services-health',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: requestTimeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('metadata lists no broker');
    if (cluster.controller === null || cluster.controller < 0) throw new Error('no active controller yet');
    const brokerIds = cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
    return { brokers: cluster.brokers.length, brokerIds, controller: cluster.controller };
  } finally {
    await admin.disconnect();
  }
}

async function httpText(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
  return { status: res.status, body: await res.text() };
}

/** `/ping` answers "Ok." and `SELECT 1` runs; returns the server version. */
export async function clickhouseHealth(baseUrl: string): Promise<string> {
  const ping = await httpText(`${baseUrl}/ping`);
  if (ping.status !== 200 || ping.body.trim() !== 'Ok.') throw new Error(`/ping answered ${ping.status} ${ping.body.trim()}`);
  const one = await httpText(`${baseUrl}/`, { method: 'POST', body: 'SELECT 1' });
  if (one.status !== 200 || one.body.trim() !== '1') throw new Error(`SELECT 1 answered ${one.status} ${one.body.trim()}`);
  const version = await httpText(`${baseUrl}/`, { method: 'POST', body: 'SELECT version()' });
  return version.body.trim();
}

/**
 * Sends `request` over TCP and resolves with the reply: once `complete(reply)` holds, or (without
 * `complete`) when the server closes the connection after answering.
 */
function tcpExchange(
  host: string,
  port: number,
  request: string,
  what: string,
  complete?: (reply: string) => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(reply);
    };
    socket.setTimeout(requestTimeoutMs, () => finish(new Error(`${what} timed out`)));
    socket.once('error', (err) => finish(err));
    socket.once('close', () =>
      finish(complete ? new Error(`connection closed; reply was ${JSON.stringify(reply.trim())}`) : undefined),
    );
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (complete?.(reply)) finish();
    });
  });
}

/** Sends RESP `PING`, expects `+PONG`. */
export async function redisHealth(host: string, port: number): Promise<void> {
  const reply = await tcpExchange(host, port, 'PING\r\n', 'PING', (r) => r.includes('\r\n'));
  if (!reply.startsWith('+PONG')) throw new Error(`PING answered ${JSON.stringify(reply.trim())}`);
}

export async function prometheusHealth(baseUrl: string): Promise<void> {
  const ready = await httpText(`${baseUrl}/-/ready`);
  if (ready.status !== 200) throw new Error(`/-/ready answered ${ready.status} ${ready.body.trim()}`);
}

/**
 * The folder a running Prometheus reads file_sd targets from for job `pathpilot` (from its live
 * config), or undefined when it has no such job. Used when the Prometheus on the port is not ours.
 */
export async function prometheusTargetsDirOf(baseUrl: string): Promise<string | undefined> {
  const res = await fetch(`${baseUrl}/api/v1/status/config`, { signal: AbortSignal.timeout(requestTimeoutMs) });
  if (!res.ok) throw new Error(`/api/v1/status/config answered ${res.status}`);
  const body = (await res.json()) as { data?: { yaml?: string } };
  const config = parseYaml(body.data?.yaml ?? '') as {
    scrape_configs?: { job_name?: string; file_sd_configs?: { files?: string[] }[] }[];
  } | null;
  const job = config?.scrape_configs?.find((c) => c.job_name === 'pathpilot');
  const pattern = job?.file_sd_configs?.[0]?.files?.[0];
  return pattern ? dirname(pattern) : undefined;
}

/**
 * ZooKeeper's `srvr` four-letter command (the one 3.5+ whitelists by default): the server answers
 * its version and mode (`standalone`, `leader`, `follower`) once it serves clients, then closes.
 */
export async function zookeeperHealth(host: string, port: number): Promise<{ version: string; mode: string }> {
  const reply = await tcpExchange(host, port, 'srvr', 'srvr');
  const version = /Zookeeper version: ([^\s,-]+)/.exec(reply)?.[1];
  const mode = /Mode: (\S+)/.exec(reply)?.[1];
  if (!version || !mode) throw new Error(`srvr answered ${JSON.stringify(reply.trim().slice(0, 200))}`);
  return { version, mode };
}
