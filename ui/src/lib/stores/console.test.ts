// The stores against a scripted backend: the order in which IPC answers and events arrive.
import { describe, expect, it, vi } from "vitest";
import { Console } from "./console.svelte";
import type { AppInfo, Backend, Conversation, LinkState, Message } from "../ipc/types";
import { fakeConsole, fakeState } from "../ipc/fake";
import { DRAFT_PAUSE_MS } from "./thread.svelte";

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
    onReminder: quiet,
    listConversations: async () => [],
    listAgents: async () => [],
    listDrafts: async () => [],
    listQuickReplies: async () => [],
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

describe("conversation updates", () => {
  it("a burst arriving during a read is read together once it answers", async () => {
    const b = scripted();
    let fire: (ids: number[]) => void = () => {};
    const answers: Array<(c: unknown[]) => void> = [];
    const backend = b.backend as unknown as Record<string, unknown>;
    backend.onConversationUpdated = async (f: (ids: number[]) => void) => {
      fire = f;
      return () => {};
    };
    backend.listConversations = () => new Promise((resolve) => answers.push(resolve));
    const app = new Console(b.backend);
    const init = app.init();
    await until(() => b.waiting() === 1);
    b.answer({ state: "signed_out" });
    await init;

    fire([1]);
    await until(() => answers.length === 1);
    for (let id = 2; id <= 50; id++) fire([id]);
    answers[0]([{ id: 1 }]);
    await until(() => answers.length === 2);
    answers[1]([{ id: 2 }, { id: 1 }]);
    await until(() => app.conversations.list.length === 2);
    // Nothing is left over: the burst was one more read, not 49. What would follow is promise
    // work only, all done before a timer's turn comes.
    await new Promise((r) => setTimeout(r, 0));
    expect(answers.length, "one read for the first event, one for the burst").toBe(2);

    // Once idle, the next event is read at once again.
    fire([7]);
    await until(() => answers.length === 3);
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

describe("drafts", () => {
  it("come back from the cache, and are kept once the typing pauses", async () => {
    const state = fakeState();
    state.drafts = { 7: "Half-written" };
    const app = fakeConsole(state, "rita");
    app.thread.drafts[8] = "typed before the read answered";
    state.drafts[8] = "older";
    await app.thread.loadDrafts();
    expect(app.thread.drafts[7]).toBe("Half-written");
    expect(app.thread.drafts[8]).toBe("typed before the read answered");

    vi.useFakeTimers();
    try {
      app.thread.setDraft(7, "Half-written, and more");
      vi.advanceTimersByTime(DRAFT_PAUSE_MS - 1);
      app.thread.setDraft(7, "Half-written, and more.");
      vi.advanceTimersByTime(DRAFT_PAUSE_MS - 1);
      expect(state.drafts[7]).toBe("Half-written");
      vi.advanceTimersByTime(1);
    } finally {
      vi.useRealTimers();
    }
    await until(() => state.drafts[7] === "Half-written, and more.");
    expect(state.calls.filter((c) => c === "saveDraft:7")).toHaveLength(1);

    // Sent (or cleared): forgotten at once, after the save before it.
    app.thread.setDraft(7, "", true);
    await until(() => !(7 in state.drafts));
    expect(state.calls.filter((c) => c === "saveDraft:7")).toHaveLength(2);
    app.thread.clear();
    expect(app.thread.drafts).toEqual({});
  });
});

describe("what the customer sees", () => {
  function chat(owner: string, state: "active" | "open", chatId = "U1"): Conversation {
    return {
      id: 5, channel_id: "1650000000", chat_id: chatId, display_name: "Ann", picture_url: null, language: "en", following: true,
      last_message_at: 0, last_preview: null, unread: 2, reply_until: null,
      routing: {
        id: "c5", version: 3, channelId: "1650000000", chatId, state, queueId: "general", queueName: "General", mode: "push",
        owner, offer: null, firstText: null, language: "en", openedAt: 0, lastCustomerAt: 0, acceptedAt: 0, endedAt: null,
        closedAt: null, closeReason: null, transferredFrom: null, consultants: [], survey: null, surveyAsked: false, contact: null,
        flag: null, consent: null,
      },
    };
  }
  function message(id: number, direction: "in" | "out"): Message {
    return {
      id, conversation_id: 5, seq: id, line_message_id: `m${id}`, outbox_id: null, direction, kind: "text", text: `t${id}`,
      body: "{}", created_at: id, status: null, via: null, error: null, sent_by: null, hidden: false, automated: null,
    };
  }

  it("the owner's opening marks read on LINE and shows where the unread part began", async () => {
    const state = fakeState();
    state.conversations = [chat("rita", "active")];
    state.messages[5] = [message(1, "in"), message(2, "out"), message(3, "in"), message(4, "in")];
    state.suggestions = [{ answer: "Parcels arrive in 2 to 3 days.", question: "When will it arrive?", sent_by: "noi", answered_at: 1 }];
    const app = fakeConsole(state, "rita");
    await app.conversations.refresh();
    await app.thread.select(5);
    expect(app.thread.unreadFrom).toBe(3);
    await until(() => state.calls.includes("signal:read:c5"));

    // Suggested answers are read for the conversation being answered.
    await until(() => app.thread.suggestions.length === 1);
    expect(app.thread.suggestions[0].answer).toBe("Parcels arrive in 2 to 3 days.");

    // Typing: one signal, however many keys, until the pause has passed.
    app.thread.typing();
    app.thread.typing();
    expect(state.calls.filter((c) => c === "signal:typing:c5")).toHaveLength(1);
  });

  it("opening clears the unread count by a new list, which the open conversation follows", async () => {
    const state = fakeState();
    state.conversations = [chat("rita", "active")];
    state.messages[5] = [message(1, "in"), message(2, "in")];
    const app = fakeConsole(state, "rita");
    await app.conversations.refresh();
    const before = app.conversations.list;
    expect(before[0].unread).toBe(2);
    await app.thread.select(5);
    // The list is never changed in place (it is `$state.raw`): a new one carries the change.
    expect(app.conversations.list).not.toBe(before);
    expect(before[0].unread).toBe(2);
    expect(app.conversations.byId(5)?.unread).toBe(0);
    expect(app.thread.selected?.unread).toBe(0);
  });

  it("someone else's conversation, or a group, is never signalled", async () => {
    for (const c of [chat("nora", "active"), chat("rita", "open"), chat("rita", "active", "Cgroup")]) {
      const state = fakeState();
      state.conversations = [c];
      state.messages[5] = [message(1, "in")];
      const app = fakeConsole(state, "rita");
      await app.conversations.refresh();
      await app.thread.select(5);
      app.thread.typing();
      const signalled = state.calls.filter((x) => x.startsWith("signal:"));
      if (c.routing!.owner !== "rita") expect(state.calls.filter((x) => x.startsWith("suggestAnswers"))).toEqual([]);
      // A group is still marked read by the relay's rules (it answers not sent); typing never.
      expect(signalled.filter((x) => x.startsWith("signal:typing"))).toEqual([]);
      if (c.routing!.owner !== "rita" || c.routing!.state !== "active") expect(signalled).toEqual([]);
    }
  });
});
