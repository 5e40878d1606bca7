// The stores against a scripted backend: the order in which IPC answers and events arrive.
import { describe, expect, it } from "vitest";
import { Console } from "./console.svelte";
import type { AppInfo, Backend, Conversation, LinkState } from "../ipc/types";
import { fakeConsole, fakeState } from "../ipc/fake";

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
    onSlaBreach: quiet,
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
    const app = new Console(b.backend);
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
    expect(app.session.link.state).toBe("online");
  });

  it("an event that arrives during start-up is kept", async () => {
    const b = scripted();
    const app = new Console(b.backend);
    const init = app.init();
    await until(() => b.waiting() === 1);
    b.fire({ state: "online" });
    b.answer({ state: "connecting", attempt: 1 });
    await init;
    expect(app.session.link.state).toBe("online");
  });

  it("without events the read is what counts", async () => {
    const b = scripted();
    const app = new Console(b.backend);
    const init = app.init();
    await until(() => b.waiting() === 1);
    b.answer({ state: "offline", reason: "the relay closed the connection" });
    await init;
    expect(app.session.link.state).toBe("offline");
  });
});

describe("conversation list", () => {
  it("an older read that answers last does not replace a newer one", async () => {
    const b = scripted();
    const answers: Array<(c: unknown[]) => void> = [];
    (b.backend as { listConversations: () => Promise<unknown[]> }).listConversations = () =>
      new Promise((resolve) => answers.push(resolve));
    const app = new Console(b.backend);
    const first = app.refresh();
    const second = app.refresh();
    await until(() => answers.length === 2);
    answers[1]([{ id: 2 }, { id: 1 }]);
    await second;
    answers[0]([{ id: 1 }]);
    await first;
    expect(app.conversations.list.map((c) => c.id)).toEqual([2, 1]);
  });
});

describe("stores over the fake backend", () => {
  const offer = (id: number, to: string | null, mode: "push" | "pick" = "push") =>
    ({
      id,
      channel_id: "1650000000",
      chat_id: `U${id}`,
      unread: 0,
      routing: { id: `r${id}`, state: "open", mode, owner: null, lastCustomerAt: id, offer: to ? { to, expiresAt: Date.now() + 60_000 } : null },
    }) as unknown as Conversation;
  const owned = (id: number, owner: string, state: string) =>
    ({ id, channel_id: "1650000000", chat_id: `U${id}`, unread: 0, routing: { id: `r${id}`, state, mode: "push", owner, lastCustomerAt: id, offer: null } }) as unknown as Conversation;

  it("the requests store splits the list into offers to me, mine and the rest", () => {
    const app = fakeConsole(fakeState(), "rita");
    app.conversations.list = [offer(3, "rita"), offer(1, "noi"), offer(2, null, "pick"), owned(4, "rita", "active"), owned(5, "rita", "wrap_up"), owned(6, "noi", "active"), owned(7, "rita", "closed")];
    expect(app.requests.requests.map((c) => c.id)).toEqual([2, 3]);
    expect(app.requests.mine.map((c) => c.id)).toEqual([4, 5]);
    expect(app.requests.others.map((c) => c.id)).toEqual([1, 6, 7]);
  });

  it("the admin store keeps the users current after each change, and the agents with them", async () => {
    const state = fakeState();
    const app = fakeConsole(state, "ada");
    await app.admin.loadUsers();
    expect(app.admin.users.map((u) => u.name)).toEqual(["ada", "noi", "rita"]);
    await app.admin.addUser({ name: "bee", role: "rep", password: "long enough", capacity: 2, queues: null, skills: null });
    expect(app.admin.users.map((u) => u.name)).toEqual(["ada", "bee", "noi", "rita"]);
    await expect(app.admin.addUser({ name: "bee", role: "rep", password: "long enough", capacity: 2, queues: null, skills: null })).rejects.toMatchObject({
      invalid: [{ field: "name", reason: { kind: "taken" } }],
    });
    await app.admin.removeUser("noi");
    expect(app.admin.users.map((u) => u.name)).toEqual(["ada", "bee", "rita"]);
    expect(state.calls.filter((c) => c === "listAgents").length).toBe(2);
    expect(app.requests.agents.map((a) => a.user)).toEqual(["rita"]);
  });

  it("the contacts store shows the kept contact after a merge from anywhere, and refreshes the search", async () => {
    const state = fakeState();
    const app = fakeConsole(state, "sam", "supervisor");
    const blank = { phone: null, email: null, company: null, notes: null, custom: {} };
    const a = await app.contacts.create({ ...blank, name: "Somchai" });
    const b = await app.contacts.create({ ...blank, name: "Somchai J." });
    app.contacts.query = "somchai";
    await app.contacts.search();
    expect(app.contacts.found?.length).toBe(2);
    await app.contacts.show(b.contact.id);
    await app.contacts.update(b.contact.id, { ...blank, name: "Somchai Jaidee" });
    expect(app.contacts.open?.contact.name).toBe("Somchai Jaidee");
    expect(app.contacts.found?.map((c) => c.name)).toEqual(["Somchai", "Somchai Jaidee"]);
    // Merged into `a` (say from the customer panel): the open contact, `b`, is gone into it.
    await app.contacts.merge(a.contact.id, b.contact.id);
    expect(app.contacts.open?.contact.id).toBe(a.contact.id);
    expect(app.contacts.found?.map((c) => c.name)).toEqual(["Somchai"]);
  });
});

describe("today on the floor", () => {
  it("is the date in the relay's report time zone, as the relay writes days", async () => {
    const { today } = await import("./board.svelte");
    const evening = Date.UTC(2026, 11, 1, 20, 0);
    expect(today(evening, "UTC")).toBe("2026-12-01");
    expect(today(evening, "Asia/Tokyo")).toBe("2026-12-02");
    expect(today(evening, "America/Los_Angeles")).toBe("2026-12-01");
  });
});
