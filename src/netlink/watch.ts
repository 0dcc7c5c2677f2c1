// Link-removal notifications (RTM_DELLINK on the LINK multicast group), so
// the agent repairs an attachment or its device as soon as someone deletes it
// rather than at the next periodic check.
import { createRtNetlink, rt, type RtNetlinkSocket } from 'netlink';

const RTM_DELLINK = 17;

export class LinkWatch {
  private readonly sock: RtNetlinkSocket;

  constructor(onRemoved: (name: string) => void) {
    this.sock = createRtNetlink();
    this.sock.addMembership('LINK');
    this.sock.socket.on('message', (msgs) => {
      for (const m of msgs) {
        if (m.type !== RTM_DELLINK) continue;
        try {
          const parsed = rt.parseMessage(m.type, m.data);
          if (parsed.kind === 'link' && parsed.attrs.ifname) onRemoved(parsed.attrs.ifname);
        } catch { /* not a link message we understand */ }
      }
    });
  }

  close(): void {
    this.sock.socket.close();
  }
}
