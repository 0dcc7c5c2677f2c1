// Link-removal notifications (RTM_DELLINK on the LINK multicast group), so
// the agent repairs an attachment or its device as soon as someone deletes it
// rather than at the next periodic check. A socket error (ENOBUFS when the
// kernel drops notifications we were too slow to read, or any other) means
// events may be lost: the socket is closed, a new one subscribes, and the
// owner is told to resync everything. Never an uncaught exception.
import { createRtNetlink, rt, type RtNetlinkSocket } from 'netlink';

const RTM_DELLINK = 17;

export interface LinkWatchOptions {
  /** events may have been lost (socket error): re-read everything */
  onResync?: (err: Error) => void;
  /** wait before subscribing again (a socket that fails at once is not retried in a loop) */
  resubscribeMs?: number;
  /** the socket factory (tests inject one) */
  open?: () => RtNetlinkSocket;
}

export class LinkWatch {
  private sock: RtNetlinkSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** sockets opened so far (1 + resubscriptions) */
  subscriptions = 0;

  constructor(
    private readonly onRemoved: (name: string) => void,
    private readonly o: LinkWatchOptions = {},
  ) {
    this.subscribe();
  }

  private subscribe(): void {
    const sock = (this.o.open ?? createRtNetlink)();
    this.sock = sock;
    this.subscriptions++;
    sock.socket.on('error', (err) => this.failed(sock, err));
    sock.addMembership('LINK');
    sock.socket.on('message', (msgs) => {
      for (const m of msgs) {
        if (m.type !== RTM_DELLINK) continue;
        try {
          const parsed = rt.parseMessage(m.type, m.data);
          if (parsed.kind === 'link' && parsed.attrs.ifname) this.onRemoved(parsed.attrs.ifname);
        } catch {
          /* not a link message we understand */
        }
      }
    });
  }

  private failed(sock: RtNetlinkSocket, err: Error): void {
    if (sock !== this.sock || this.closed) return;
    this.sock = null;
    try {
      sock.socket.close();
    } catch {
      /* already closed */
    }
    this.retry(err);
  }

  private retry(err: Error): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      // No new socket yet: try again later (the periodic resync still repairs meanwhile).
      try {
        this.subscribe();
      } catch {
        this.retry(err);
        return;
      }
      this.o.onResync?.(err);
    }, this.o.resubscribeMs ?? 100);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.sock;
    this.sock = null;
    try {
      s?.socket.close();
    } catch {
      /* already closed */
    }
  }
}
