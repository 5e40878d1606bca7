// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs). Do not edit:
// UPDATE_BINDINGS=1 cargo test -p linedesk --test bindings

export type ErrorCode = "unauthenticated" | "offline" | "invalid" | "signed_out" | "conflict" | "forbidden" | "internal";

export type IpcError = { 
/**
 * Stable code.
 */
code: ErrorCode, 
/**
 * Safe, short description (the UI shows its own localized text by code).
 */
message: string, };

export type AppInfo = { 
/**
 * Signed-in user, if any.
 */
user: string | null, 
/**
 * Relay URL last used.
 */
relay_url: string | null, 
/**
 * Running in demo mode (relay and simulator on loopback).
 */
demo: boolean, 
/**
 * Demo credentials to prefill, in demo mode only.
 */
demo_user: string | null, 
/**
 * The signed-in user's role: `rep`, `supervisor` or `admin`.
 */
role: string | null, 
/**
 * The OS locale (`LC_ALL`, `LC_MESSAGES` or `LANG`, e.g. `th_TH.UTF-8`): WebKitGTK does not
 * always report it to the page.
 */
os_locale: string | null, };

export type LinkState = { "state": "signed_out" } | { "state": "connecting", 
/**
 * Attempt number since the last success.
 */
attempt: number, } | { "state": "online" } | { "state": "offline", 
/**
 * Why, in plain words.
 */
reason: string, } | { "state": "refused", 
/**
 * Why.
 */
reason: string, };

export type Conversation = { 
/**
 * Cache id.
 */
id: number, 
/**
 * LINE channel.
 */
channel_id: string, 
/**
 * LINE chat (user, group or room).
 */
chat_id: string, 
/**
 * Customer's display name, once the relay fetched the profile.
 */
display_name: string | null, 
/**
 * Profile picture URL (load through the relay, never directly).
 */
picture_url: string | null, 
/**
 * Customer's language (BCP-47).
 */
language: string | null, 
/**
 * Whether the customer follows the account (not blocked).
 */
following: boolean, 
/**
 * Last activity, UTC ms.
 */
last_message_at: number, 
/**
 * Preview of the last message (plain text).
 */
last_preview: string | null, 
/**
 * Messages not yet read.
 */
unread: number, 
/**
 * The relay's current conversation for this chat (state, owner, offer), once routed.
 */
routing: ConversationSnapshot | null, };

export type Message = { 
/**
 * Cache id.
 */
id: number, 
/**
 * Conversation.
 */
conversation_id: number, 
/**
 * Relay log position, once logged.
 */
seq: number | null, 
/**
 * LINE's message ID.
 */
line_message_id: string | null, 
/**
 * Outbox id of an outgoing message.
 */
outbox_id: string | null, 
/**
 * `in`, `out` or `event`.
 */
direction: string, 
/**
 * `text`, `image`, `video`, `audio`, `file`, `location`, `sticker`, `follow`, `unblocked`,
 * `blocked`, `unsend`, `postback`, or another LINE type.
 */
kind: string, 
/**
 * Plain text (render as text, never as HTML).
 */
text: string | null, 
/**
 * The LINE message or event object (JSON).
 */
body: string, 
/**
 * UTC ms.
 */
created_at: number, 
/**
 * Outgoing state: `queued`, `sending`, `sent`, `failed`, `unknown`.
 */
status: string | null, 
/**
 * `reply` (free) or `push` (metered).
 */
via: string | null, 
/**
 * LINE's reason when failed.
 */
error: string | null, 
/**
 * Representative who sent it.
 */
sent_by: string | null, 
/**
 * Unsent by the customer: hide it.
 */
hidden: boolean, 
/**
 * Sent by the relay automatically: the trigger (`greeting`, `closed`, `survey_comment` …).
 */
automated: string | null, };

export type SearchHit = { 
/**
 * The message.
 */
message: Message, 
/**
 * Its conversation's display name.
 */
display_name: string | null, };

export type OutboxRow = { 
/**
 * UUID; the push retry key.
 */
id: string, 
/**
 * Its message row.
 */
message_id: number, 
/**
 * Channel.
 */
channel_id: string, 
/**
 * Chat.
 */
chat_id: string, 
/**
 * The LINE message object (JSON).
 */
message: string, 
/**
 * `queued`, `sending`, `sent`, `failed`, `unknown`.
 */
state: string, 
/**
 * How it was (or is being) sent.
 */
via: string | null, 
/**
 * The reply token it was sent with.
 */
reply_token: string | null, 
/**
 * Attempts so far.
 */
attempts: number, 
/**
 * LINE's `sentMessages` (JSON), once accepted.
 */
sent_messages: string | null, 
/**
 * Whether the relay has the transcript.
 */
reported: boolean, 
/**
 * When Send was pressed.
 */
created_at: number, };

export type Media = { 
/**
 * `ready`, `pending` (still downloading from LINE), `gone` (unsent) or `failed`.
 */
status: string, 
/**
 * Content type, when ready.
 */
content_type: string | null, 
/**
 * Bytes, base64, when ready.
 */
data_base64: string | null, };

export type UploadProgress = { 
/**
 * Conversation the file goes to.
 */
conversationId: number, 
/**
 * File name.
 */
fileName: string, 
/**
 * Bytes sent.
 */
sent: number, 
/**
 * Bytes in all.
 */
total: number, };

export type DownloadProgress = { 
/**
 * LINE message ID of the file.
 */
messageId: string, 
/**
 * Bytes received.
 */
received: number, 
/**
 * Bytes in all (0 when the relay did not say).
 */
total: number, };

export type ConversationState = "open" | "active" | "waiting" | "wrap_up" | "closed";

export type Presence = "available" | "busy" | "do_not_disturb" | "away" | "offline" | "inactive";

export type DistributionMode = "push" | "pick";

export type Offer = { 
/**
 * The representative it is offered to.
 */
to: string, 
/**
 * When it was made, UTC ms.
 */
offeredAt: number, 
/**
 * When it lapses (counts as a decline), UTC ms.
 */
expiresAt: number, };

export type Consultant = { 
/**
 * User name.
 */
user: string, 
/**
 * Added by the owner: may write to the customer. Until then a read-only view.
 */
joined: boolean, };

export type SurveyAnswer = { 
/**
 * The rating the customer tapped.
 */
rating: number | null, 
/**
 * Their comment, if they wrote one.
 */
comment: string | null, };

export type ConversationSnapshot = { 
/**
 * Relay-wide conversation ID.
 */
id: string, 
/**
 * Increases with every change.
 */
version: number, 
/**
 * LINE channel.
 */
channelId: string, 
/**
 * LINE chat (user, group or room ID).
 */
chatId: string, 
/**
 * State.
 */
state: ConversationState, 
/**
 * Queue it sits in (or came from).
 */
queueId: string, 
/**
 * Queue's display name.
 */
queueName: string, 
/**
 * Push or pick.
 */
mode: DistributionMode, 
/**
 * Representative who has it (Active, Waiting, Wrap-up, Closed).
 */
owner: string | null, 
/**
 * The pending offer, in push mode.
 */
offer: Offer | null, 
/**
 * The customer's first text, for the request card.
 */
firstText: string | null, 
/**
 * The customer's language, when LINE told it.
 */
language: string | null, 
/**
 * Opened, UTC ms.
 */
openedAt: number, 
/**
 * Last customer message, UTC ms (queue order).
 */
lastCustomerAt: number, 
/**
 * Accepted, UTC ms.
 */
acceptedAt: number | null, 
/**
 * Ended (into wrap-up), UTC ms.
 */
endedAt: number | null, 
/**
 * Closed, UTC ms.
 */
closedAt: number | null, 
/**
 * Why it closed: `agent`, `auto_close`, `channel_deleted`.
 */
closeReason: string | null, 
/**
 * The previous owner, after a transfer.
 */
transferredFrom: string | null, 
/**
 * Consultants.
 */
consultants: Array<Consultant>, 
/**
 * The survey answer, once given.
 */
survey: SurveyAnswer | null, 
/**
 * The contact the customer's LINE profile is linked to.
 */
contact: ContactBrief | null, 
/**
 * Needs a supervisor: `ambiguous_contact` (the profile is linked to two contacts).
 */
flag: string | null, 
/**
 * The customer's privacy consent, when the channel asks for it.
 */
consent: ConsentState | null, };

export type AgentSnapshot = { 
/**
 * User name.
 */
user: string, 
/**
 * Effective presence (what routing uses).
 */
presence: Presence, 
/**
 * What the representative chose.
 */
chosen: Presence, 
/**
 * Capacity units in all.
 */
capacity: number, 
/**
 * Units in use (active work, offers, blocking wrap-ups).
 */
used: number, 
/**
 * Whether a console of theirs is connected. Without one they keep their presence and
 * work for a minute's grace (a network blip, a relay restart), but are offered nothing.
 */
connected: boolean, };

export type CommandAnswer = { 
/**
 * The conversation after the command.
 */
conversation: ConversationSnapshot, 
/**
 * Something the caller should know (e.g. the target queue has nobody available).
 */
warning?: string | null, };

export type ContactBrief = { 
/**
 * Row id.
 */
id: number, 
/**
 * Name.
 */
name: string, 
/**
 * Company.
 */
company: string | null, };

export type ConsentState = "asked" | "granted" | "declined";

export type ConsentSettings = { 
/**
 * The question, by language tag (`en`, `zh-TW`, …); `*` is the fallback.
 */
message: { [key in string]: string }, 
/**
 * Label of the agree button.
 */
agree: string, 
/**
 * Label of the decline button.
 */
decline: string, };

export type WebhookTest = { 
/**
 * The relay answered 2xx.
 */
success: boolean, 
/**
 * What the relay answered LINE (0 or less: no answer).
 */
statusCode: number, 
/**
 * LINE's reason code.
 */
reason: string, 
/**
 * What it means, in plain words.
 */
detail: string, 
/**
 * When, UTC ms.
 */
at: number, };

export type ChannelHealth = { 
/**
 * LINE channel ID.
 */
id: string, 
/**
 * Name.
 */
name: string, 
/**
 * The webhook URL to give LINE.
 */
callbackUrl: string, 
/**
 * The secret's last four characters, the rest masked.
 */
secretHint: string, 
/**
 * The token's last four characters, the rest masked.
 */
tokenHint: string, 
/**
 * The bot's name at LINE.
 */
botName: string | null, 
/**
 * Events received in all.
 */
eventsReceived: number, 
/**
 * Events received today (UTC).
 */
eventsToday: number, 
/**
 * When the last one arrived.
 */
lastEventAt: number | null, 
/**
 * Webhooks refused for a missing or wrong signature.
 */
signatureFailures: number, 
/**
 * Media downloads that failed (an admin's retry puts them back in line and clears this).
 */
mediaFailures: number, 
/**
 * The saved secret or token does not open with this relay's key (sealed under another
 * key): the channel is set aside until an admin enters them again.
 */
credentialsUnreadable: boolean, 
/**
 * Whether LINE accepted the token when last checked (`None`: never checked).
 */
tokenValid: boolean | null, 
/**
 * When it was checked.
 */
tokenCheckedAt: number | null, 
/**
 * What LINE said when it refused the token.
 */
tokenError: string | null, 
/**
 * LINE's webhook URL for the channel, as last read.
 */
webhookEndpoint: string | null, 
/**
 * LINE's "Use webhook" switch.
 */
webhookActive: boolean | null, 
/**
 * Whether LINE's webhook points at this relay (`false`: another tool owns it).
 */
webhookOurs: boolean | null, 
/**
 * Monthly message limit (`None`: unlimited or unknown).
 */
quotaLimit: number | null, 
/**
 * Messages counted against it this month.
 */
quotaUsed: number | null, 
/**
 * The last webhook test.
 */
lastTest: WebhookTest | null, 
/**
 * The consent message, when on.
 */
consent: ConsentSettings | null, 
/**
 * Deleted, UTC ms.
 */
deletedAt: number | null, };

export type UserInfo = { 
/**
 * Login name.
 */
name: string, 
/**
 * Role.
 */
role: "rep" | "supervisor" | "admin", 
/**
 * Capacity units.
 */
capacity: number, 
/**
 * Queues the user is a member of.
 */
queues: Array<string>, 
/**
 * Skills (free labels).
 */
skills: Array<string>, };

export type ContactFields = { 
/**
 * Name.
 */
name: string, 
/**
 * Phone.
 */
phone: string | null, 
/**
 * Email.
 */
email: string | null, 
/**
 * Company.
 */
company: string | null, 
/**
 * Notes.
 */
notes: string | null, 
/**
 * Custom fields.
 */
custom: { [key in string]: string }, };

export type ProfileLink = { 
/**
 * Channel.
 */
channelId: string, 
/**
 * LINE user ID.
 */
userId: string, 
/**
 * The LINE display name, when known.
 */
displayName: string | null, 
/**
 * Who linked it.
 */
linkedBy: string, 
/**
 * When.
 */
linkedAt: number, };

export type Contact = { 
/**
 * Row id.
 */
id: number, 
/**
 * Linked LINE profiles.
 */
links: Array<ProfileLink>, 
/**
 * Created, UTC ms.
 */
createdAt: number, 
/**
 * Last edited, UTC ms.
 */
updatedAt: number, 
/**
 * Name.
 */
name: string, 
/**
 * Phone.
 */
phone: string | null, 
/**
 * Email.
 */
email: string | null, 
/**
 * Company.
 */
company: string | null, 
/**
 * Notes.
 */
notes: string | null, 
/**
 * Custom fields.
 */
custom: { [key in string]: string }, };

export type AuditEntry = { 
/**
 * When, UTC ms.
 */
at: number, 
/**
 * Who.
 */
actor: string, 
/**
 * `create`, `edit`, `merge`, `link`, `unlink`, `export`, `erase`.
 */
action: string, 
/**
 * The contact.
 */
contactId: number | null, 
/**
 * The profile's channel.
 */
channelId: string | null, 
/**
 * The profile.
 */
userId: string | null, 
/**
 * Why, or what changed.
 */
detail: string | null, };

export type ContactSummary = { 
/**
 * The contact.
 */
contact: Contact, 
/**
 * Its conversations across channels, newest first.
 */
conversations: Array<ConversationSnapshot>, 
/**
 * The audit of its links and edits, newest first.
 */
audit: Array<AuditEntry>, };

export type ProfileIdentity = { 
/**
 * Channel.
 */
channelId: string, 
/**
 * LINE user ID.
 */
userId: string, 
/**
 * LINE display name.
 */
displayName: string | null, 
/**
 * Linked contacts (two or more: ambiguous, for a supervisor).
 */
contacts: Array<Contact>, 
/**
 * Unlinked contacts whose name matches the display name.
 */
suggestions: Array<Contact>, 
/**
 * Consent.
 */
consent: ConsentState | null, };
