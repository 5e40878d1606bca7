// The store against a scripted backend: the order in which IPC answers and events arrive.
import { describe, expect, it } from "vitest";
import { AppStore } from "./app.svelte";
import type { AppInfo, Backend, LinkState } from "../ipc/types";

/** A backend whose `linkState` answers only when the test says so, and whose events the test fires. */
function scripted() {
  let emit: (s: LinkState) => void = () => {};
  const pending: Array<(s: LinkState) => void> = [];
  const info: AppInfo = { user: "rita", relay_url: "http://127.0.0.1:1", demo: false, demo_user: null, role: "rep", os_locale: null };
  const quiet = async () => () => {};
  const backend = {
    appInfo: async () => info,
    signIn: async () => {},
    linkState: () => new Promise<LinkState>((resolve) => pending.push(resolve)),
    onLinkChanged: async (f: (s: LinkState) => void) => {
      emit = f;
      return () => {};
    },
    onConversationUpdated: quiet,
    onOutboxChanged: quiet,
    onOpenConversation: quiet,
    onAgentsChanged: quiet,
    onUploadProgress: quiet,
    listConversations: async () => [],
    listAgents: async () => [],
  } as unknown as Backend;
  return {
    backend,
    fire: (s: LinkState) => emit(s),
    answer: (s: LinkState) => pending.shift()!(s),
    waiting: () => pending.length,
  };
}

async function until(f: () => boolean) {
  for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(f()).toBe(true);
}

describe("link state", () => {
  it("an answer read before a newer event does not overwrite it", async () => {
    const b = scripted();
    const app = new AppStore(b.backend);
    const init = app.init();
    await until(() => b.waiting() === 1);
    b.answer({ state: "signed_out" });
    await init;

    const signIn = app.signIn("http://127.0.0.1:1", "rita", "pw");
    await until(() => b.waiting() === 1);
    // The relay welcomes the console while the read is under way; the read then answers with
    // what it saw before.
    b.fire({ state: "online" });
    b.answer({ state: "connecting", attempt: 1 });
    expect(await signIn).toBe(true);
    expect(app.link.state).toBe("online");
  });

  it("an event that arrives during start-up is kept", async () => {
    const b = scripted();
    const app = new AppStore(b.backend);
    const init = app.init();
    await until(() => b.waiting() === 1);
    b.fire({ state: "online" });
    b.answer({ state: "connecting", attempt: 1 });
    await init;
    expect(app.link.state).toBe("online");
  });

  it("without events the read is what counts", async () => {
    const b = scripted();
    const app = new AppStore(b.backend);
    const init = app.init();
    await until(() => b.waiting() === 1);
    b.answer({ state: "offline", reason: "the relay closed the connection" });
    await init;
    expect(app.link.state).toBe("offline");
  });
});

describe("conversation list", () => {
  it("an older read that answers last does not replace a newer one", async () => {
    const b = scripted();
    const answers: Array<(c: unknown[]) => void> = [];
    (b.backend as { listConversations: () => Promise<unknown[]> }).listConversations = () =>
      new Promise((resolve) => answers.push(resolve));
    const app = new AppStore(b.backend);
    const first = app.refresh();
    const second = app.refresh();
    await until(() => answers.length === 2);
    answers[1]([{ id: 2 }, { id: 1 }]);
    await second;
    answers[0]([{ id: 1 }]);
    await first;
    expect(app.conversations.map((c) => c.id)).toEqual([2, 1]);
  });
});
