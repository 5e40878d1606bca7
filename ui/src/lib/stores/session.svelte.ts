// Who is signed in and whether the relay is reachable; the last error any store met.
import type { AppInfo, Backend, IpcError, LinkState } from "../ipc/types";
import { isIpcError } from "../ipc/types";

export class SessionStore {
  info = $state<AppInfo | null>(null);
  link = $state<LinkState>({ state: "signed_out" });
  error = $state<IpcError | null>(null);

  signedIn = $derived(this.link.state !== "signed_out" && this.link.state !== "refused");
  me = $derived(this.info?.user ?? null);
  role = $derived(this.info?.role ?? null);
  /** Supervisors and admins: merges, exports, the floor. */
  supervises = $derived(this.role === "supervisor" || this.role === "admin");

  /** Counts link-changed events, so an older read never overwrites a newer event. */
  private linkSeq = 0;

  constructor(private backend: Backend) {}

  /** Listens for link changes, then reads who is signed in and the link. `online` is called
   * on each change to online (the other stores refresh then). */
  async init(online: () => void) {
    // Listen first, then read: a change between the two is never missed, and a read that
    // answers after a newer event does not overwrite it.
    await this.backend.onLinkChanged((s) => {
      this.linkSeq += 1;
      this.link = s;
      if (s.state === "online") online();
    });
    this.info = await this.backend.appInfo();
    await this.readLink();
  }

  /** Reads the link state, unless an event reported a newer one while the read was under way. */
  private async readLink() {
    const seq = this.linkSeq;
    const state = await this.backend.linkState();
    if (seq === this.linkSeq) this.link = state;
  }

  /** Keeps an error for the screens to show. */
  fail(e: unknown) {
    this.error = isIpcError(e) ? e : { code: "internal", message: String(e), invalid: [] };
  }

  async signIn(relayUrl: string, user: string, password: string): Promise<boolean> {
    this.error = null;
    try {
      await this.backend.signIn(relayUrl, user, password);
      this.info = await this.backend.appInfo();
      await this.readLink();
      if (this.link.state === "signed_out") this.link = { state: "connecting", attempt: 1 };
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  async signOut() {
    await this.backend.signOut();
    this.info = await this.backend.appInfo();
  }
}
