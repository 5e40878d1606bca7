// What the admin screens share: the channels, queues and users as the relay last answered,
// and every set-up call, which keeps those lists current. Calls throw the relay's refusal;
// the screen shows each reason under its field.
import type {
  AgentSnapshot, Backend, ChannelCheck, ChannelHealth, ChannelUpdate, NewChannel, NewUser, Queue, QueueEntry, RuleTest,
  RuleTestAnswer, UserInfo, UserUpdate, Workstream,
} from "../ipc/types";
import type { RequestsStore } from "./requests.svelte";

export class AdminStore {
  channels = $state<ChannelHealth[]>([]);
  queues = $state<QueueEntry[]>([]);
  users = $state<UserInfo[]>([]);

  /** Channels that still take messages. */
  live = $derived(this.channels.filter((c) => c.deletedAt === null));

  constructor(
    private backend: Backend,
    private requests: RequestsStore,
  ) {}

  async loadChannels() {
    this.channels = await this.backend.listChannels({});
  }

  async loadQueues() {
    this.queues = await this.backend.listQueues({});
  }

  async loadUsers() {
    this.users = sortUsers(await this.backend.listUsers({}));
  }

  /** Puts a channel the relay answered into the list. */
  private putChannel(ch: ChannelHealth): ChannelHealth {
    const i = this.channels.findIndex((c) => c.id === ch.id);
    if (i >= 0) this.channels[i] = ch;
    else this.channels.push(ch);
    return ch;
  }

  async addChannel(channel: NewChannel) {
    return this.putChannel(await this.backend.addChannel({ channel }));
  }

  async updateChannel(channelId: string, update: ChannelUpdate) {
    return this.putChannel(await this.backend.updateChannel({ channelId, update }));
  }

  async checkChannel(channelId: string, check: ChannelCheck) {
    return this.putChannel(await this.backend.checkChannel({ channelId, check }));
  }

  async removeChannel(channelId: string, farewell: string | null) {
    return this.putChannel(await this.backend.removeChannel({ channelId, farewell: { message: farewell } }));
  }

  async addUser(user: NewUser): Promise<UserInfo> {
    const u = await this.backend.addUser({ user });
    this.users = sortUsers([...this.users.filter((x) => x.name !== u.name), u]);
    await this.requests.refreshAgents();
    return u;
  }

  async updateUser(name: string, update: UserUpdate): Promise<UserInfo> {
    const u = await this.backend.updateUser({ name, update });
    this.users = this.users.map((x) => (x.name === u.name ? u : x));
    await this.requests.refreshAgents();
    return u;
  }

  async removeUser(name: string) {
    await this.backend.removeUser({ name });
    this.users = this.users.filter((x) => x.name !== name);
    await this.requests.refreshAgents();
  }

  async saveQueue(id: string, queue: Queue) {
    await this.backend.putQueue({ id, queue });
    await this.loadQueues();
  }

  async setCapacity(user: string, capacity: number): Promise<AgentSnapshot> {
    const a = await this.backend.setCapacity({ user, settings: { capacity } });
    await this.requests.refreshAgents();
    return a;
  }

  workstream(channelId: string): Promise<Workstream> {
    return this.backend.getWorkstream({ channelId });
  }

  saveWorkstream(channelId: string, workstream: Workstream): Promise<Workstream> {
    return this.backend.putWorkstream({ channelId, workstream });
  }

  /** Where a sample message would go under `test.workstream` (saved or not). */
  testRule(channelId: string, test: RuleTest): Promise<RuleTestAnswer> {
    return this.backend.testRule({ channelId, test });
  }
}

const sortUsers = (users: UserInfo[]) => users.sort((a, b) => a.name.localeCompare(b.name));
