// The agent survives its own inputs: a corrupt desired-state.json (set aside,
// the good copy beside it used, never the empty state over the live host),
// a machine's endless output line (cut, the file rotated), a netlink socket
// error (subscribed again, a resync; no uncaught exception). No root.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { freshMemory, writeBootNft } from '../../src/agent/apply.js';
import { computeDesired } from '../../src/agent/desired.js';
import { LogTail } from '../../src/agent/proc.js';
import { StateDir } from '../../src/agent/statedir.js';
import { silentLogger } from '../../src/log.js';
import type { State } from '../../src/model/types.js';
import { LinkWatch } from '../../src/netlink/watch.js';
import { FakeHost } from '../../testkit/fake-host.js';
import { selfConfig } from '../../testkit/agent-self.js';

const key = (c: string): string => `${c.repeat(43)}=`;
const state = (hosts: number): State => ({
  regions: [],
  orgs: [],
  networks: [],
  apps: [],
  machines: [],
  peers: [],
  hosts: Array.from({ length: hosts }, (_, i) => ({
    id: i + 1,
    region: 'ams',
    endpoint: `198.18.0.${i + 1}:51820`,
    public_key: key(String.fromCharCode(65 + i)),
    gateway: false,
    created_at: '',
  })),
});
const self = selfConfig();

describe('agent: a corrupt desired-state.json', () => {
  let dir: string;
  let sd: StateDir;
  const logged: { msg: string; o: Record<string, unknown> }[] = [];
  const log = (msg: string, o: Record<string, unknown>): void => {
    logged.push({ msg, o });
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sixpn-state-'));
    sd = new StateDir(dir);
    logged.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a good file loads as it is', () => {
    sd.saveDesired(7, state(3));
    const r = sd.loadDesired(log)!;
    assert.equal(r.rev, 7);
    assert.equal(r.from, 'desired-state.json');
    assert.equal(r.state.hosts.length, 3);
    assert.deepEqual(logged, []);
  });

  it('truncated: set aside (renamed, logged), and the last good copy beside it is used', () => {
    sd.saveDesired(7, state(3));
    truncateSync(sd.path('desired-state.json'), 40);
    const r = sd.loadDesired(log)!;
    assert.equal(r.rev, 7);
    assert.equal(r.from, 'desired-state.good.json');
    assert.equal(r.state.hosts.length, 3);
    assert.ok(!existsSync(sd.path('desired-state.json')));
    assert.equal(readFileSync(sd.path('desired-state.json.corrupt'), 'utf8').length, 40, 'the corrupt file is kept for a look');
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.msg, 'corrupt desired state set aside');
    assert.match(String(logged[0]!.o.err), /JSON/);
    // The next save writes both again.
    sd.saveDesired(8, state(2));
    assert.equal(sd.loadDesired(log)!.from, 'desired-state.json');
  });

  it('valid JSON of the wrong shape is corrupt too; both files bad: null (the feed rebuilds it), both set aside', () => {
    sd.saveDesired(7, state(1));
    writeFileSync(sd.path('desired-state.json'), '{}');
    writeFileSync(sd.path('desired-state.good.json'), '{"rev":3,"state":{"hosts":[]}}');
    assert.equal(sd.loadDesired(log), null);
    assert.deepEqual(
      logged.map((l) => l.o.err),
      ['not a saved desired state', 'not a saved desired state'],
    );
    assert.deepEqual(
      readdirSync(dir)
        .filter((f) => f.startsWith('desired'))
        .sort(),
      ['desired-state.good.json.corrupt', 'desired-state.json.corrupt'],
    );
  });

  it('no desired state at all: boot keeps the live nftables table (before: the empty state was written over it)', async () => {
    const host = new FakeHost();
    host.nftText = 'the live table, with every attachment and network';
    const empty = computeDesired({ hosts: [], machines: [], peers: [] }, self);
    const memory = freshMemory();
    assert.equal(await writeBootNft(empty, false, host, memory, 'last written', silentLogger), false);
    assert.equal(host.nftText, 'the live table, with every attachment and network');
    assert.equal(host.count('nft.write'), 0);
    assert.equal(memory.nftText, null, 'the first pass with a state writes it');
    // A known state over the same live table is written (when it differs from the last written).
    assert.equal(await writeBootNft(computeDesired(state(2), self), true, host, memory, 'last written', silentLogger), true);
    assert.equal(host.count('nft.write'), 1);
    // No live table (a fresh host): the empty table is what there is to write.
    const fresh = new FakeHost();
    assert.equal(await writeBootNft(empty, false, fresh, freshMemory(), null, silentLogger), true);
  });
});

describe("agent: a machine's output", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sixpn-out-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function capture(): { log: pino.Logger; lines: () => { msg: string; level: number }[] } {
    const out: string[] = [];
    const stream = new Writable({
      write(c: Buffer, _e, cb) {
        out.push(...c.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    return { log: pino(stream), lines: () => out.map((l) => JSON.parse(l) as { msg: string; level: number }) };
  }

  it('a line without end is cut at the cap, the rest dropped with a marker; the next line is whole', () => {
    const file = join(dir, 'm.log');
    const c = capture();
    const tail = new LogTail(file, c.log, false, { maxLineBytes: 16 });
    writeFileSync(file, `short\n${'a'.repeat(5000)}`);
    tail.poll();
    appendFileSync(file, `${'b'.repeat(3000)}\nafter\n`);
    tail.poll();
    tail.stop();
    assert.deepEqual(
      c.lines().map((l) => l.msg),
      ['short', `${'a'.repeat(16)} [line cut at 16 bytes; the rest of it is dropped]`, 'after'],
    );
  });

  it('memory stays bounded: a 24 MB line read in 1 MiB chunks never holds more than the cap', () => {
    const file = join(dir, 'm.log');
    const c = capture();
    const tail = new LogTail(file, c.log, false, { maxFileBytes: 1e9 });
    writeFileSync(file, Buffer.alloc(24 << 20, 0x61));
    for (let i = 0; i < 25; i++) tail.poll();
    // The cut line was logged at once; what is kept while the line goes on is nothing.
    assert.equal((tail as unknown as { partialBytes: number }).partialBytes, 0);
    assert.equal(c.lines().length, 1);
    tail.stop();
    const msgs = c.lines().map((l) => l.msg);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0]!.length, 16 * 1024 + ' [line cut at 16384 bytes; the rest of it is dropped]'.length);
  });

  it('a file over its limit is rotated: its last part kept as FILE.1 (one old file), FILE starts again', () => {
    const file = join(dir, 'm.log');
    const c = capture();
    const tail = new LogTail(file, c.log, false, { maxFileBytes: 1000 });
    writeFileSync(file, `${'x'.repeat(2990)}\nlast line\n`);
    tail.poll();
    assert.equal(statSync(file).size, 0);
    assert.equal(statSync(`${file}.1`).size, 1000);
    assert.match(readFileSync(`${file}.1`, 'utf8'), /x\nlast line\n$/);
    assert.match(c.lines()[0]!.msg, /^machine log over 1000 bytes: rotated/);
    appendFileSync(file, 'next\n');
    tail.poll();
    writeFileSync(file, 'y'.repeat(1500), { flag: 'a' });
    tail.poll();
    assert.equal(statSync(`${file}.1`).size, 1000, 'still one old file, capped');
    assert.deepEqual(readdirSync(dir).sort(), ['m.log', 'm.log.1']);
    tail.stop();
    assert.ok(c.lines().some((l) => l.msg === 'next'));
  });
});

describe('agent: netlink socket errors', () => {
  /** Stands in for the netlink package's socket (the same events). */
  class FakeSock {
    readonly socket = Object.assign(new EventEmitter(), {
      closed: false,
      close(this: { closed: boolean }) {
        this.closed = true;
      },
    });
    groups: string[] = [];
    addMembership(g: string): void {
      this.groups.push(g);
    }
  }

  it('an error on the link-watch socket: closed, a new one subscribes, the owner resyncs; no uncaught exception', async () => {
    const socks: FakeSock[] = [];
    const resyncs: string[] = [];
    const w = new LinkWatch(() => undefined, {
      resubscribeMs: 5,
      onResync: (err) => resyncs.push(err.message),
      open: () => {
        const s = new FakeSock();
        socks.push(s);
        return s as never;
      },
    });
    assert.equal(socks.length, 1);
    const enobufs = Object.assign(new Error('recvmsg ENOBUFS'), { code: 'ENOBUFS' });
    socks[0]!.socket.emit('error', enobufs); // with no listener this would throw
    socks[0]!.socket.emit('error', enobufs); // a second error on the dead socket is ignored
    assert.equal(socks[0]!.socket.closed, true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(socks.length, 2);
    assert.deepEqual(socks[1]!.groups, ['LINK']);
    assert.deepEqual(resyncs, ['recvmsg ENOBUFS']);
    assert.equal(w.subscriptions, 2);
    w.close();
    assert.equal(socks[1]!.socket.closed, true);
  });

  it('a socket that cannot be opened again is retried, not thrown', async () => {
    let n = 0;
    const resyncs: number[] = [];
    const w = new LinkWatch(() => undefined, {
      resubscribeMs: 5,
      onResync: () => resyncs.push(n),
      open: () => {
        n++;
        if (n === 2 || n === 3) throw new Error('EMFILE');
        const s = new FakeSock();
        if (n === 1) setTimeout(() => s.socket.emit('error', new Error('boom')), 1);
        return s as never;
      },
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(n, 4);
    assert.deepEqual(resyncs, [4]);
    w.close();
  });
});
