// Shapes of what the Rust commands return (serde of linedesk-core's cache types and the
// shell's DTOs). TODO(issue 3): generate this file from the Rust types (ts-rs) with a
// staleness test, as DESIGN.md asks; until then it must be kept in step by hand.

export type ErrorCode = "unauthenticated" | "offline" | "invalid" | "signed_out" | "conflict" | "forbidden" | "internal";
export interface IpcError { code: ErrorCode; message: string }

export type LinkState =
  | { state: "signed_out" }
  | { state: "connecting"; attempt: number }
  | { state: "online" }
  | { state: "offline"; reason: string }
  | { state: "refused"; reason: string };

export interface AppInfo {
  user: string | null; relay_url: string | null; demo: boolean; demo_user: string | null; os_locale: string | null;
}

export interface Conversation {
  id: number; channel_id: string; chat_id: string; display_name: string | null; picture_url: string | null;
  language: string | null; following: boolean; last_message_at: number; last_preview: string | null; unread: number;
  /** The relay's current conversation for this chat, once routed. */
  routing: ConversationSnapshot | null;
}

export type ConversationState = "open" | "active" | "waiting" | "wrap_up" | "closed";
export type Presence = "available" | "busy" | "do_not_disturb" | "away" | "offline" | "inactive";
export const CHOOSABLE_PRESENCE: readonly Presence[] = ["available", "busy", "do_not_disturb", "away", "offline"];

export interface Offer { to: string; offeredAt: number; expiresAt: number }
export interface Consultant { user: string; joined: boolean }
export interface SurveyAnswer { rating: number | null; comment: string | null }

/** linedesk-protocol `routing::ConversationSnapshot` (camelCase in the relay's log). */
export interface ConversationSnapshot {
  id: string; version: number; channelId: string; chatId: string; state: ConversationState;
  queueId: string; queueName: string; mode: "push" | "pick"; owner: string | null; offer: Offer | null;
  firstText: string | null; language: string | null; openedAt: number; lastCustomerAt: number;
  acceptedAt: number | null; endedAt: number | null; closedAt: number | null; closeReason: string | null;
  transferredFrom: string | null; consultants: Consultant[]; survey: SurveyAnswer | null;
}

export interface AgentSnapshot { user: string; presence: Presence; chosen: Presence; capacity: number; used: number }

export interface CommandAnswer { conversation: ConversationSnapshot; warning?: string }

export type RoutingAction = "accept" | "reject" | "wait" | "end" | "close" | "transfer";

export interface Message {
  id: number; conversation_id: number; seq: number | null; line_message_id: string | null; outbox_id: string | null;
  direction: "in" | "out" | "event"; kind: string; text: string | null; body: string; created_at: number;
  status: string | null; via: string | null; error: string | null; sent_by: string | null; hidden: boolean;
  /** Sent by the relay automatically: the trigger. */
  automated: string | null;
}

export interface SearchHit { message: Message; display_name: string | null }

export interface OutboxRow { id: string; message_id: number; state: string }

export interface UploadProgress { conversationId: number; fileName: string; sent: number; total: number }

export interface DownloadProgress { messageId: string; received: number; total: number }

export interface Media { status: "ready" | "pending" | "gone" | "failed"; content_type: string | null; data_base64: string | null }

/** Everything the UI asks of the backend; `client.ts` implements it over Tauri IPC. */
export interface Backend {
  appInfo(): Promise<AppInfo>;
  signIn(relayUrl: string, user: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  linkState(): Promise<LinkState>;
  listConversations(): Promise<Conversation[]>;
  getMessages(conversationId: number, before?: number): Promise<Message[]>;
  markRead(conversationId: number): Promise<void>;
  sendText(conversationId: number, text: string): Promise<OutboxRow>;
  retrySend(outboxId: string): Promise<boolean>;
  search(query: string): Promise<SearchHit[]>;
  fetchMedia(channelId: string, messageId: string): Promise<Media>;
  /** Opens the coordinates on a map in the OS browser. */
  openMap(latitude: number, longitude: number): Promise<void>;
  onConversationUpdated(f: (ids: number[]) => void): Promise<() => void>;
  onOutboxChanged(f: (id: string) => void): Promise<() => void>;
  onLinkChanged(f: (s: LinkState) => void): Promise<() => void>;
  /** Uploads a file to the relay and sends it (image, video, audio by URL; others as a link). */
  sendAttachment(conversationId: number, fileName: string, bytes: Uint8Array, durationMs?: number): Promise<OutboxRow>;
  /** The preview of something this console uploaded. */
  fetchUpload(url: string): Promise<Media>;
  onUploadProgress(f: (p: UploadProgress) => void): Promise<() => void>;
  /** Saves a customer's file into Downloads; answers the saved path. */
  downloadMedia(channelId: string, messageId: string, fileName: string): Promise<string>;
  onDownloadProgress(f: (p: DownloadProgress) => void): Promise<() => void>;
  setPresence(presence: Presence): Promise<AgentSnapshot>;
  act(id: string, action: RoutingAction, body?: Record<string, string>): Promise<CommandAnswer>;
  listAgents(): Promise<AgentSnapshot[]>;
  listEpisodes(conversationId: number): Promise<ConversationSnapshot[]>;
  onAgentsChanged(f: () => void): Promise<() => void>;
  /** A click on an OS notification asks to open this conversation. */
  onOpenConversation(f: (id: number) => void): Promise<() => void>;
}

export function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}
