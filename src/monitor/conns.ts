// What the Monitor holds for its rank connections: each connection's state, each job's set of
// connections and timers, the byte budgets that bound what connections may make it hold before
// Hello, and the time a turn of the event loop spends on ranks' frames.
import type net from 'node:net';
import { FrameDecoder } from '../wire/frames.js';
import type { Session } from './ingest.js';

/** A connection's first frame must be its Hello (job, host, program, token: well under this):
 * a peer that has not shown the token cannot make the monitor hold more for it. */
export const HELLO_MAX_BYTES = 64 * 1024;
/** What one connection is charged, on top of its buffered bytes, before it has said Hello. */
export const UNAUTHENTICATED_CONN_BYTES = 1024;
/** Time spent applying ranks' frames per event-loop turn (ms), over all connections, checked
 * after each frame: what a byte costs depends on the job (a large job's sparse matrices,
 * collective expansion, code not yet optimised), so bytes alone do not bound how long a new
 * connection waits. Short: Node accepts one connection per event-loop iteration, so a connection
 * behind a burst of others waits that many turns (200 flooders connecting: 0.2-0.6 s at 1 ms,
 * 2-3 s at 4 ms); ingest was the same 82-85 MB per CPU second at 1 and 4 ms. */
export const TURN_MS = 1;
/** A turn may spend as much as the process spent on other work since the last one (so that the
 * ranks' data keeps at least half of a busy loop), up to this (ms). */
export const MAX_TURN_MS = 50;

export interface Conn {
  /** bytes charged to the unauthenticated budget (0 once it has said Hello) */
  charged: number;
  /** chunks received while its earlier data waits for its turn */
  backlog: Buffer[];
  /** frames decoded from its data and not applied yet (from frameAt on) */
  frames: Uint8Array[];
  frameAt: number;
  /** it is in the monitor's queue of connections waiting for a turn */
  queued: boolean;
  /** the peer has closed: drop the connection once its backlog is applied */
  closeWhenDrained: boolean;
  socket: net.Socket;
  session: Session;
  decoder: FrameDecoder;
  remote: string;
  ackedSeq: number;
  dead: boolean;
  helloTimer: NodeJS.Timeout | null;
}

/** A new connection: nothing received, nothing charged yet. */
export function newConn(socket: net.Socket, session: Session, remote: string, maxFrameBytes: number): Conn {
  return {
    socket,
    session,
    decoder: new FrameDecoder(maxFrameBytes, HELLO_MAX_BYTES),
    remote,
    ackedSeq: -1,
    dead: false,
    helloTimer: null,
    charged: 0,
    backlog: [],
    frames: [],
    frameAt: 0,
    queued: false,
    closeWhenDrained: false,
  };
}

/** A job in progress: its open connections and timers. */
export interface JobMeta {
  conns: Set<Conn>;
  lingerTimer: NodeJS.Timeout | null;
  updateTimer: NodeJS.Timeout | null;
  lastUpdateVersion: number;
  lastUpdateMs: number;
}

/** A new job: no connection yet, no timer, no update sent. */
export function newJobMeta(): JobMeta {
  return {
    conns: new Set(),
    lingerTimer: null,
    updateTimer: null,
    lastUpdateVersion: -1,
    lastUpdateMs: 0,
  };
}
