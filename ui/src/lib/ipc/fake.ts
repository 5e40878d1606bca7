// A backend in memory for the UI's own tests: the relay's set-up calls keep their state here
// and refuse as the relay does for the entries the tests try (field and reason), so the
// screens run without the shell or a relay. Calls the screens under test do not make throw.
import { Console } from "../stores/console.svelte";
import type {
  AgentSnapshot, AppInfo, Backend, ChannelCheck, ChannelHealth, ChannelUpdate, Contact, ContactFields, ContactSummary, Conversation, IpcError, Message, NewChannel, QuickReply, QuickReplyInput, Suggestion, NewContact, Queue, QueueEntry, Reason, Report, ReportRow,
  RuleTestAnswer, UserInfo, Workstream,
} from "./types";

/** The relay's default workstream, as `GET /api/workstreams/{channel}` answers before any save. */
export function defaultWorkstream(): Workstream {
  return {
    mode: "push",
    fallbackQueue: "general",
    capacityUnits: 1,
    wrapUpBlocks: { kind: "duration", ms: 60_000 },
    autoCloseAfterMs: 86_400_000,
    affinity: true,
    affinityWindowMs: 7 * 86_400_000,
    language: "en",
    attachments: { customersCanSend: true, representativesCanSend: true },
    offerTimeoutMs: 120_000,
    declineLimit: 3,
    presenceRules: { afterMissed: null, afterReject: null },
    openAutoCloseAfterMs: 30 * 86_400_000,
    rules: [],
    messages: { no_agent: { en: "All our representatives are busy." } },
    survey: { kind: "buttons", question: { en: "How did we do? Tap a rating." }, scale: ["1", "2", "3", "4", "5"], commentPrompt: {} },
  };
}

function refused(field: string, reason: Reason): IpcError {
  return { code: "invalid", message: `${field}: refused`, invalid: [{ field, reason }] };
}

export type FakeState = {
  channels: ChannelHealth[];
  workstreams: Record<string, Workstream>;
  queues: QueueEntry[];
  users: UserInfo[];
  agents: AgentSnapshot[];
  contacts: Contact[];
  /** What `getReport` answers (its range and grouping set from the query). */
  report: Report;
  /** The console's cached chats and their messages. */
  conversations: Conversation[];
  messages: Record<number, Message[]>;
  /** What the cache suggests for the open conversation. */
  suggestions: Suggestion[];
  /** Quick replies the relay keeps. */
  quickReplies: QuickReply[];
  /** Drafts kept in the cache, by conversation. */
  drafts: Record<number, string>;
  /** Files saved into Downloads, by name. */
  saved: Record<string, string>;
  /** Every call made, by method name, in order. */
  calls: string[];
};

/** A backend over `state`; what the tests look at afterwards is in `state` too. */
export function fakeBackend(state: FakeState): Backend {
  const log = (name: string) => state.calls.push(name);
  // What crosses Tauri's IPC is JSON: the same here (and Svelte's state proxies cannot be
  // structured-cloned).
  const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const channel = (id: string) => {
    const ch = state.channels.find((c) => c.id === id);
    if (!ch) throw { code: "conflict", message: "no such channel", invalid: [] } satisfies IpcError;
    return ch;
  };
  const relay = {
    listChannels: async () => (log("listChannels"), clone(state.channels)),
    addChannel: async ({ channel: c }: { channel: NewChannel }) => {
      log("addChannel");
      // As the relay does after asking LINE: "bad" is what the tests' LINE refuses.
      if (!/^\d{10}$/.test(c.id)) throw refused("id", { kind: "channelId" });
      if (state.channels.some((x) => x.id === c.id)) throw refused("id", { kind: "alreadySetUp" });
      if (c.token === "bad") throw refused("token", { kind: "tokenRefused", detail: "Authentication failed" });
      if (c.secret === "bad") throw refused("secret", { kind: "secretRefused" });
      const added: ChannelHealth = {
        ...fakeState().channels[0],
        id: c.id,
        name: c.name,
        callbackUrl: `https://relay.example.com/line/${c.id}/webhook`,
        secretHint: `…${c.secret.slice(-4)}`,
        tokenHint: `…${c.token.slice(-4)}`,
      };
      state.channels.push(added);
      return clone(added);
    },
    checkChannel: async ({ channelId, check }: { channelId: string; check: ChannelCheck }) => {
      log(`checkChannel:${check}`);
      const ch = channel(channelId);
      if (check === "webhook") Object.assign(ch, { webhookEndpoint: ch.callbackUrl, webhookActive: true, webhookOurs: true });
      if (check === "test") ch.lastTest = { at: 1_700_000_000_000, success: true, statusCode: 200, reason: "", detail: "OK" };
      return clone(ch);
    },
    updateChannel: async ({ channelId, update }: { channelId: string; update: ChannelUpdate }) => {
      log("updateChannel");
      const ch = channel(channelId);
      if (update.token === "bad") throw refused("token", { kind: "tokenRefused", detail: "Authentication failed" });
      if (update.consent && !Object.values(update.consent.message).some((t) => t.trim())) throw refused("consent.message", { kind: "required" });
      if (update.secret) ch.secretHint = `…${update.secret.slice(-4)}`;
      if (update.token) ch.tokenHint = `…${update.token.slice(-4)}`;
      if (update.consent) ch.consent = clone(update.consent);
      if (update.consentOff) ch.consent = null;
      return clone(ch);
    },
    removeChannel: async ({ channelId }: { channelId: string }) => {
      log("removeChannel");
      const ch = channel(channelId);
      ch.deletedAt = 1_700_000_000_000;
      return clone(ch);
    },
    listUsers: async () => (log("listUsers"), clone(state.users)),
    listQueues: async () => (log("listQueues"), clone(state.queues)),
    getWorkstream: async ({ channelId }: { channelId: string }) => (log("getWorkstream"), clone(state.workstreams[channelId] ?? defaultWorkstream())),
    putWorkstream: async ({ channelId, workstream }: { channelId: string; workstream: Workstream }) => {
      log("putWorkstream");
      if (workstream.declineLimit < 1 || workstream.declineLimit > 5) throw refused("declineLimit", { kind: "range", min: 1, max: 5 });
      for (const [i, r] of workstream.rules.entries()) {
        if (!state.queues.some((q) => q.id === r.queue)) throw refused(`rules[${i}].queue`, { kind: "noSuchQueue" });
      }
      state.workstreams[channelId] = clone(workstream);
      return clone(workstream);
    },
    putQueue: async ({ id, queue }: { id: string; queue: Queue }) => {
      log("putQueue");
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw refused("id", { kind: "identifier" });
      const dates = queue.hours?.holidays.map((h) => h.date) ?? [];
      const twice = dates.findIndex((d, i) => dates.indexOf(d) !== i);
      if (twice >= 0) throw refused(`hours.holidays[${twice}].date`, { kind: "duplicate" });
      const at = state.queues.findIndex((q) => q.id === id);
      if (at >= 0) state.queues[at] = { id, queue: clone(queue) };
      else state.queues.push({ id, queue: clone(queue) });
      return clone(queue);
    },
    testRule: async ({ test }: { channelId: string; test: { workstream: Workstream; text: string } }): Promise<RuleTestAnswer> => {
      log("testRule");
      const ws = test.workstream;
      const i = ws.rules.findIndex((r) =>
        r.conditions.every((c) => c.field === "keywords" && c.anyOf.some((k) => test.text.toLowerCase().includes(k.toLowerCase()))),
      );
      const rule = i >= 0 ? ws.rules[i] : null;
      return {
        rule: rule ? i : null,
        ruleName: rule?.name ?? null,
        queues: rule?.split.length ? rule.split : [{ queue: rule?.queue ?? ws.fallbackQueue, percent: 100 }],
        requiredSkills: rule?.requiredSkills ?? [],
        skillMatch: rule?.skillMatch ?? "exact",
      };
    },
    addUser: async ({ user }: { user: { name: string; role: UserInfo["role"]; password: string; capacity: number | null } }) => {
      log("addUser");
      if (state.users.some((u) => u.name === user.name)) throw refused("name", { kind: "taken" });
      if (user.password.length < 8) throw refused("password", { kind: "tooShort", min: 8 });
      const added: UserInfo = { name: user.name, role: user.role, capacity: user.capacity ?? 3, queues: [], skills: [] };
      state.users.push(added);
      return clone(added);
    },
    updateUser: async ({ name, update }: { name: string; update: { role: UserInfo["role"] | null; capacity: number | null; skills: string[] | null; queues: string[] | null } }) => {
      log("updateUser");
      const u = state.users.find((x) => x.name === name);
      if (!u) throw { code: "conflict", message: "no such user", invalid: [] } satisfies IpcError;
      if (update.skills && update.skills.length > 30) throw refused("skills", { kind: "count", min: 0, max: 30 });
      if (update.capacity !== null && (update.capacity < 0 || update.capacity > 100)) throw refused("capacity", { kind: "range", min: 0, max: 100 });
      Object.assign(u, {
        role: update.role ?? u.role,
        capacity: update.capacity ?? u.capacity,
        skills: update.skills ?? u.skills,
        queues: update.queues ?? u.queues,
      });
      return clone(u);
    },
    removeUser: async ({ name }: { name: string }) => {
      log("removeUser");
      state.users = state.users.filter((u) => u.name !== name);
      return null;
    },
    searchContacts: async ({ query }: { query: string }) => {
      log("searchContacts");
      const q = query.toLowerCase();
      return clone(state.contacts.filter((c) => [c.name, c.phone, c.email].some((v) => v?.toLowerCase().includes(q))));
    },
    getContact: async ({ id }: { id: number }) => (log("getContact"), summary(id)),
    getProfile: async ({ channelId, userId }: { channelId: string; userId: string }) => {
      log("getProfile");
      const linked = state.contacts.filter((c) => c.links.some((l) => l.channelId === channelId && l.userId === userId));
      const displayName = state.conversations.find((c) => c.channel_id === channelId && c.chat_id === userId)?.display_name ?? null;
      return clone({ channelId, userId, displayName, contacts: linked, suggestions: [] });
    },
    createContact: async ({ contact }: { contact: NewContact }) => {
      log("createContact");
      checkContact(contact);
      const { link: _link, ...fields } = contact;
      const made: Contact = { ...fields, id: state.contacts.length + 1, links: [], createdAt: 0, updatedAt: 0 };
      state.contacts.push(made);
      return summary(made.id);
    },
    updateContact: async ({ id, fields }: { id: number; fields: ContactFields }) => {
      log("updateContact");
      checkContact(fields);
      const c = state.contacts.find((x) => x.id === id)!;
      Object.assign(c, fields);
      return summary(id);
    },
    mergeContacts: async ({ id, merge }: { id: number; merge: { other: number } }) => {
      log("mergeContacts");
      if (id === merge.other) throw refused("other", { kind: "sameContact" });
      summary(merge.other);
      state.contacts = state.contacts.filter((c) => c.id !== merge.other);
      return summary(id);
    },
    getReport: async ({ from, to, by }: { from: string; to: string; by: Report["group"] }) => {
      log(`getReport:${by}`);
      if (from > to) throw refused("to", { kind: "dayRange", maxDays: 731 });
      return clone({ ...state.report, from, to, group: by });
    },
    setCapacity: async ({ user, settings }: { user: string; settings: { capacity: number } }) => {
      log("setCapacity");
      const a = state.agents.find((x) => x.user === user);
      if (a) a.capacity = settings.capacity;
      return clone(a!);
    },
  };
  /** The relay's checks of a contact's fields that the tests try. */
  function checkContact(f: ContactFields) {
    if (!f.name.trim()) throw refused("name", { kind: "length", min: 1, max: 200 });
    if (f.phone && !/^[\d +\-().#]+$/.test(f.phone)) throw refused("phone", { kind: "phone" });
    if (f.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(f.email)) throw refused("email", { kind: "email" });
  }
  function summary(id: number): ContactSummary {
    const contact = state.contacts.find((c) => c.id === id);
    if (!contact) throw { code: "conflict", message: "no such contact", invalid: [] } satisfies IpcError;
    return clone({ contact, conversations: [], audit: [] });
  }
  const rest = {
    saveCsv: async (fileName: string, text: string) => {
      log("saveCsv");
      state.saved[fileName] = text;
      return `/home/ada/Downloads/${fileName}`;
    },
    exportTranscript: async (conversationId: number, episodeId: string, text: unknown) => {
      log(`exportTranscript:${conversationId}:${episodeId}`);
      const name = `${(text as { title: string }).title}.html`;
      state.saved[name] = JSON.stringify(text);
      return `/home/ada/Downloads/${name}`;
    },
    suggestAnswers: async (id: number) => (log(`suggestAnswers:${id}`), clone(state.suggestions)),
    listQuickReplies: async () => (log("listQuickReplies"), clone(state.quickReplies)),
    addQuickReply: async ({ reply }: { reply: QuickReplyInput }) => {
      log("addQuickReply");
      if (!reply.title.trim()) throw refused("title", { kind: "length", min: 1, max: 100 });
      const added: QuickReply = { id: state.quickReplies.length + 1, owner: reply.team ? null : "rita", updatedAt: 0, ...reply };
      state.quickReplies.push(added);
      return clone(added);
    },
    listDrafts: async () => (log("listDrafts"), Object.entries(state.drafts).map(([id, text]) => ({ conversation_id: Number(id), text }))),
    saveDraft: async (conversationId: number, text: string) => {
      log(`saveDraft:${conversationId}`);
      if (text) state.drafts[conversationId] = text;
      else delete state.drafts[conversationId];
    },
    listLater: async (id: string) => (log(`listLater:${id}`), []),
    signal: async (id: string, action: string) => (log(`signal:${action}:${id}`), true),
    listConversations: async () => clone(state.conversations),
    getMessages: async (id: number) => clone(state.messages[id] ?? []),
    markRead: async (id: number) => {
      log(`markRead:${id}`);
      const c = state.conversations.find((x) => x.id === id);
      if (c) c.unread = 0;
    },
    listAgents: async () => (log("listAgents"), clone(state.agents)),
    onAgentsChanged: async () => () => {},
    onSlaBreach: async () => () => {},
    onReminder: async () => () => {},
  };
  return new Proxy({ ...relay, ...rest } as unknown as Backend, {
    get(target, name) {
      const v = (target as unknown as Record<string | symbol, unknown>)[name];
      if (v !== undefined || typeof name === "symbol") return v;
      return async () => {
        throw new Error(`the fake backend has no ${String(name)}`);
      };
    },
  });
}

/** A relay with one channel, the default queue and a team of three. */
export function fakeState(): FakeState {
  return {
    channels: [
      {
        id: "1650000000",
        name: "Support TW",
        callbackUrl: "https://relay.example.com/line/1650000000/webhook",
        secretHint: "…cdef",
        tokenHint: "…WXYZ",
        botName: "Support",
        eventsReceived: 0,
        eventsToday: 0,
        lastEventAt: null,
        signatureFailures: 0,
        mediaFailures: 0,
        credentialsUnreadable: false,
        tokenValid: true,
        tokenCheckedAt: null,
        tokenError: null,
        webhookEndpoint: null,
        webhookActive: null,
        webhookOurs: null,
        quotaLimit: null,
        quotaUsed: null,
        lastTest: null,
        consent: null,
        deletedAt: null,
      },
    ],
    workstreams: {},
    queues: [{ id: "general", queue: { name: "General", priority: 0, members: [], supervisors: [], hours: null, serviceLevel: null, overflow: [] } }],
    users: [
      { name: "ada", role: "admin", capacity: 3, queues: [], skills: [] },
      { name: "rita", role: "rep", capacity: 3, queues: ["general"], skills: ["billing"] },
      { name: "noi", role: "rep", capacity: 3, queues: [], skills: ["thai"] },
    ],
    agents: [{ user: "rita", presence: "available", chosen: "available", capacity: 3, used: 0, connected: true, since: 0 }],
    contacts: [],
    report: { from: "", to: "", group: "day", timeZone: "UTC", rows: [], total: emptyRow("") },
    conversations: [],
    messages: {},
    quickReplies: [],
    suggestions: [],
    drafts: {},
    saved: {},
    calls: [],
  };
}

/** The console's stores over the fake backend, signed in as `user` (role from the state's users). */
export function fakeConsole(state: FakeState, user: string, role?: AppInfo["role"]): Console {
  const app = new Console(fakeBackend(state));
  app.session.info = {
    user,
    relay_url: "https://relay.example.com",
    demo: false,
    demo_user: null,
    role: role ?? state.users.find((u) => u.name === user)?.role ?? "rep",
    os_locale: null,
  };
  return app;
}

/** A report row with nothing in it. */
export function emptyRow(key: string): ReportRow {
  return {
    key, received: 0, accepted: 0, answered: 0, unanswered: 0, transfers: 0, declines: 0, targeted: 0, withinTarget: 0,
    waitMedianMs: null, waitP90Ms: null, firstResponseMedianMs: null, firstResponseP90Ms: null, handleAvgMs: null, wrapUpAvgMs: null,
    surveysSent: 0, surveysAnswered: 0, ratingAvg: null, sentFree: 0, sentMetered: 0,
  };
}
