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
message: string, 
/**
 * For entries the relay refused: each field and why, worded by the UI under that field.
 */
invalid: Array<Invalid>, };

export type Invalid = { 
/**
 * The field as a path into the request body: `capacityUnits`, `rules[0].queue`,
 * `hours.weekly[2].from`; empty when the reason concerns the request as a whole (a
 * conversation taken by someone else).
 */
field: string, 
/**
 * Why, with its parameters.
 */
reason: Reason, };

export type Reason = { "kind": "required" } | { "kind": "range", 
/**
 * Smallest allowed.
 */
min: number, 
/**
 * Largest allowed.
 */
max: number, } | { "kind": "duration", 
/**
 * Shortest allowed, milliseconds.
 */
minMs: number, 
/**
 * Longest allowed, milliseconds.
 */
maxMs: number, } | { "kind": "length", 
/**
 * Fewest characters.
 */
min: number, 
/**
 * Most characters.
 */
max: number, } | { "kind": "count", 
/**
 * Fewest items.
 */
min: number, 
/**
 * Most items.
 */
max: number, } | { "kind": "noSuchQueue" } | { "kind": "noSuchUser" } | { "kind": "regex", 
/**
 * The parser's words.
 */
detail: string, } | { "kind": "timeZone" } | { "kind": "timeOfDay" } | { "kind": "weekday" } | { "kind": "date" } | { "kind": "closesBeforeOpens" } | { "kind": "httpsUrl" } | { "kind": "identifier" } | { "kind": "fixed" } | { "kind": "taken" } | { "kind": "duplicate" } | { "kind": "tooShort", 
/**
 * Fewest characters.
 */
min: number, } | { "kind": "phone" } | { "kind": "email" } | { "kind": "lineUser" } | { "kind": "channelId" } | { "kind": "credential" } | { "kind": "tokenOfOtherChannel", 
/**
 * The channel it belongs to.
 */
channel: string, } | { "kind": "tokenRefused", 
/**
 * What LINE said.
 */
detail: string, } | { "kind": "secretRefused" } | { "kind": "alreadySetUp" } | { "kind": "ownRole" } | { "kind": "sameContact" } | { "kind": "oneOf", 
/**
 * The values allowed.
 */
values: Array<string>, } | { "kind": "percentages" } | { "kind": "sameQueue" } | { "kind": "malformed" } | { "kind": "noSuchConversation" } | { "kind": "noSuchContact" } | { "kind": "unknownProfile" } | { "kind": "notOffered" } | { "kind": "ownedByOther", 
/**
 * Who has it, when someone does.
 */
owner: string | null, } | { "kind": "notQueueMember" } | { "kind": "supervisorOnly" } | { "kind": "notInState", 
/**
 * The conversation's state (`open`, `active`, `waiting`, `wrap_up`, `closed`).
 */
state: string, } | { "kind": "offline", 
/**
 * Who.
 */
user: string, } | { "kind": "consultSelf" } | { "kind": "consultFirst" } | { "kind": "openConversations" } | { "kind": "notChoosable" } | { "kind": "noOpenConversation" } | { "kind": "readOnlyConsult" } | { "kind": "attachmentsOff" } | { "kind": "tooLarge", 
/**
 * The most it takes, in bytes.
 */
maxBytes: number, } | { "kind": "yourself" } | { "kind": "noWebhookYet" } | { "kind": "dayRange", 
/**
 * Most days a range covers.
 */
maxDays: number, };

export type Role = "rep" | "supervisor" | "admin";

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
 * Until when (UTC ms, the relay's clock) an answer goes out free, by reply; `None`: by
 * push (metered). LINE's reply token of the customer's latest message, unused.
 */
reply_until: number | null, 
/**
 * The relay's current conversation for this chat (state, owner, offer), once routed.
 */
routing: ConversationSnapshot | null, };

export type Breach = { 
/**
 * The conversation in the cache.
 */
conversationId: number, 
/**
 * Its queue's name.
 */
queueName: string, 
/**
 * When it opened, UTC ms.
 */
openedAt: number, 
/**
 * The queue's target, ms.
 */
targetMs: number, 
/**
 * When the relay saw it breach, UTC ms.
 */
at: number, };

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

export type Draft = { 
/**
 * Cache id of the conversation.
 */
conversation_id: number, 
/**
 * The text.
 */
text: string, };

export type Suggestion = { 
/**
 * What the team answered.
 */
answer: string, 
/**
 * The earlier question it answered.
 */
question: string, 
/**
 * Who answered.
 */
sent_by: string | null, 
/**
 * When it was answered, UTC ms.
 */
answered_at: number, };

export type ShellWords = { 
/**
 * A notification's default action.
 */
open: string, 
/**
 * A chat request's "accept" button.
 */
accept: string, 
/**
 * A chat request's "reject" button.
 */
reject: string, 
/**
 * The tray's "show the window".
 */
show: string, 
/**
 * The tray's "quit".
 */
quit: string, 
/**
 * The tray's tooltip while items wait: `{count}` is filled in.
 */
waiting: string, 
/**
 * A service-level breach: `{seconds}` and `{queue}` are filled in.
 */
breach: string, 
/**
 * A reminder's notification, before its note.
 */
reminder: string, };

export type Fact = { 
/**
 * "Queue", "Representative", "Opened" …
 */
label: string, 
/**
 * Its value.
 */
value: string, };

export type TranscriptText = { 
/**
 * BCP-47 language of these sentences (the page's `lang`).
 */
lang: string, 
/**
 * The heading and the file's name, e.g. "Transcript 王小明".
 */
title: string, 
/**
 * The header's facts: customer, channel, queue, representative, opened, closed, rating …
 */
facts: Array<Fact>, 
/**
 * The footer: who exported it, when, and the time zone of the times.
 */
footer: string, 
/**
 * Who the customer is in the timeline (their display name).
 */
customer: string, 
/**
 * The team, for a message sent with no representative's name.
 */
team: string, 
/**
 * Marks a message the relay sent by itself.
 */
automated: string, 
/**
 * A note's heading: "Note from {who}".
 */
note: string, 
/**
 * A whisper's heading: "Whisper from {who} to the owner".
 */
whisper: string, 
/**
 * Says a note was never sent to the customer.
 */
internal: string, 
/**
 * What happened to a message the team sent, by status: `queued`, `sending`, `reply`,
 * `push`, `failed` (with `{reason}`), `unknown`.
 */
status: { [key in string]: string }, 
/**
 * Timeline events by LINE type: `follow`, `unblocked`, `blocked`, `unsend`, `edited`,
 * `attachment_blocked`.
 */
events: { [key in string]: string }, 
/**
 * Any other event: "LINE event: {type}".
 */
event: string, 
/**
 * Names of message kinds: `image`, `video`, `audio`, `file`, `sticker`, `location`.
 */
kinds: { [key in string]: string }, 
/**
 * A sticker with its keywords: "Sticker: {keywords}".
 */
stickerKeywords: string, 
/**
 * Stands in for a picture that could not be put in the file.
 */
noPicture: string, 
/**
 * Said when the conversation has no messages.
 */
empty: string, };

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

export type Picture = { "kind": "sticker", 
/**
 * LINE's sticker ID.
 */
sticker_id: string, 
/**
 * The animation (APNG) rather than the still.
 */
animation: boolean, } | { "kind": "emoji", 
/**
 * Its product (set).
 */
product_id: string, 
/**
 * Its ID within the product.
 */
emoji_id: string, } | { "kind": "avatar", 
/**
 * Channel.
 */
channel_id: string, 
/**
 * LINE user ID.
 */
user_id: string, };

export type StickerPackage = { 
/**
 * Package ID.
 */
package_id: string, 
/**
 * Its stickers, in LINE's order.
 */
sticker_ids: Array<string>, };

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
 * The survey went out when it closed (a question, or a link).
 */
surveyAsked: boolean, 
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
connected: boolean, 
/**
 * Since when the effective presence is what it is, UTC ms (0: not known).
 */
since: number, };

export type CommandAnswer = { 
/**
 * The conversation after the command.
 */
conversation: ConversationSnapshot, 
/**
 * Something the caller should know (e.g. the target queue has nobody available).
 */
warning?: Warning | null, };

export type LaterMessage = { 
/**
 * Its id (the push's retry key).
 */
id: string, 
/**
 * When it goes, UTC ms.
 */
at: number, 
/**
 * The text.
 */
text: string, 
/**
 * Who wrote it.
 */
sentBy: string | null, };

export type Warning = { "kind": "nobodyAvailable", 
/**
 * The queue's name.
 */
queue: string, } | { "kind": "overCapacity", 
/**
 * Who.
 */
user: string, };

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

export type NewChannel = { 
/**
 * LINE channel ID (Basic settings tab).
 */
id: string, 
/**
 * Name shown in the console.
 */
name: string, 
/**
 * Channel secret.
 */
secret: string, 
/**
 * Long-lived channel access token.
 */
token: string, };

export type ChannelUpdate = { 
/**
 * New name.
 */
name: string | null, 
/**
 * New channel secret.
 */
secret: string | null, 
/**
 * New long-lived access token.
 */
token: string | null, 
/**
 * Consent message settings; `Some(None)` is not expressible, so `consentOff` turns it off.
 */
consent: ConsentSettings | null, 
/**
 * Turns the consent message off.
 */
consentOff: boolean, };

export type DeleteChannel = { 
/**
 * Send this text to customers whose conversation is closed (none when empty).
 */
message: string | null, };

export type NewUser = { 
/**
 * Login name.
 */
name: string, 
/**
 * Role.
 */
role: Role, 
/**
 * First password (at least 8 characters).
 */
password: string, 
/**
 * Capacity units (default 3).
 */
capacity: number | null, 
/**
 * Queues to join.
 */
queues: Array<string> | null, 
/**
 * Skills.
 */
skills: Array<string> | null, };

export type UserUpdate = { 
/**
 * New role.
 */
role: Role | null, 
/**
 * New password (a reset; the user's sessions end).
 */
password: string | null, 
/**
 * Capacity units.
 */
capacity: number | null, 
/**
 * Queues (replaces the membership).
 */
queues: Array<string> | null, 
/**
 * Skills.
 */
skills: Array<string> | null, };

export type LinkRequest = { 
/**
 * Channel of the profile.
 */
channelId: string, 
/**
 * LINE user ID.
 */
userId: string, 
/**
 * Why (kept in the audit).
 */
reason: string | null, };

export type MergeRequest = { 
/**
 * The contact that disappears; its links, notes and custom fields move over.
 */
other: number, };

export type NewContact = { 
/**
 * Link this profile to it.
 */
link: LinkRequest | null, 
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

export type Erased = { 
/**
 * The contact's ID.
 */
erased: number, 
/**
 * Messages removed from the log.
 */
messages: number, 
/**
 * Media files removed.
 */
files: number, };

export type WrapUpBlocks = { "kind": "always" } | { "kind": "never" } | { "kind": "duration", 
/**
 * Milliseconds.
 */
ms: number, };

export type Attachments = { 
/**
 * Customers' images, video, audio and files reach representatives.
 */
customersCanSend: boolean, 
/**
 * Representatives may attach files.
 */
representativesCanSend: boolean, };

export type Trigger = "greeting" | "assigned" | "no_agent" | "ended" | "out_of_hours" | "holiday" | "closed" | "attachment_blocked" | "survey_thanks" | "queue_position" | "transfer_accepted";

export type Survey = { "kind": "off" } | { "kind": "buttons", 
/**
 * The question, per language.
 */
question: { [key in string]: string }, 
/**
 * Button labels, lowest rating first (1..=n); at most 13 (LINE's quick-reply limit).
 */
scale: Array<string>, 
/**
 * Ask for a comment after the rating, per language; empty: no comment.
 */
commentPrompt: { [key in string]: string }, } | { "kind": "link", 
/**
 * The text, per language, with `{Url}` where the link goes.
 */
text: { [key in string]: string }, 
/**
 * The survey URL.
 */
url: string, };

export type Condition = { "field": "language", 
/**
 * Languages.
 */
in: Array<string>, } | { "field": "keywords", 
/**
 * Words.
 */
anyOf: Array<string>, } | { "field": "regex", 
/**
 * The pattern (Rust `regex` syntax).
 */
pattern: string, } | { "field": "channel", 
/**
 * Channel IDs.
 */
in: Array<string>, } | { "field": "following", 
/**
 * Wanted state.
 */
value: boolean, } | { "field": "timeOfDay", 
/**
 * IANA time zone.
 */
timeZone: string, 
/**
 * Start, `HH:MM`.
 */
from: string, 
/**
 * End, `HH:MM` (exclusive); may be earlier than `from` to span midnight.
 */
to: string, } | { "field": "knownContact", 
/**
 * Wanted state.
 */
value: boolean, } | { "field": "contactField", 
/**
 * The contact field's name.
 */
name: string, 
/**
 * Values.
 */
in: Array<string>, };

export type Rule = { 
/**
 * Shown to admins.
 */
name: string, 
/**
 * All must hold.
 */
conditions: Array<Condition>, 
/**
 * The queue chosen (when `split` is empty).
 */
queue: string, 
/**
 * Spread the matching conversations across queues by percentage (must add up to 100);
 * empty sends them all to `queue`.
 */
split: Array<Share>, 
/**
 * Skills a representative needs for these conversations.
 */
requiredSkills: Array<string>, 
/**
 * How strictly the skills must match.
 */
skillMatch: SkillMatch, };

export type Workstream = { 
/**
 * Push or pick; fixed once the workstream exists.
 */
mode: DistributionMode, 
/**
 * Where a conversation goes when no rule matches.
 */
fallbackQueue: string, 
/**
 * Capacity units one conversation uses.
 */
capacityUnits: number, 
/**
 * Whether wrap-up keeps using capacity.
 */
wrapUpBlocks: WrapUpBlocks, 
/**
 * Close Active, Waiting and Wrap-up conversations after this long without activity.
 */
autoCloseAfterMs: number | null, 
/**
 * Offer a returning customer to their last representative first.
 */
affinity: boolean, 
/**
 * How long after a close affinity holds.
 */
affinityWindowMs: number, 
/**
 * The workstream's language, for automated messages when the customer's is unknown.
 */
language: string, 
/**
 * Attachment permissions.
 */
attachments: Attachments, 
/**
 * Push offer countdown.
 */
offerTimeoutMs: number, 
/**
 * Declines (reject or timeout) after which a representative is skipped for the item.
 */
declineLimit: number, 
/**
 * Presence changes after a missed or rejected offer.
 */
presenceRules: PresenceRules, 
/**
 * Close Open conversations nobody took after this long without activity.
 */
openAutoCloseAfterMs: number | null, 
/**
 * Routing rules, first match wins.
 */
rules: Array<Rule>, 
/**
 * Automated messages: trigger → language → text (slugs `{AgentName}`, `{QueueName}`,
 * `{CustomerName}`). A trigger without text sends nothing.
 */
messages: { [key in Trigger]?: { [key in string]: string } }, 
/**
 * The post-conversation survey.
 */
survey: Survey, };

export type Slot = { 
/**
 * Days: `mon` … `sun`.
 */
days: Array<string>, 
/**
 * Opens, `HH:MM`.
 */
from: string, 
/**
 * Closes, `HH:MM` (exclusive).
 */
to: string, };

export type Holiday = { 
/**
 * `YYYY-MM-DD` in the queue's time zone.
 */
date: string, 
/**
 * Shown to admins.
 */
name: string, };

export type Hours = { 
/**
 * IANA time zone, e.g. `Asia/Taipei`.
 */
timeZone: string, 
/**
 * Open slots; the queue is closed outside them.
 */
weekly: Array<Slot>, 
/**
 * Closed all day.
 */
holidays: Array<Holiday>, };

export type Queue = { 
/**
 * Display name.
 */
name: string, 
/**
 * Higher first.
 */
priority: number, 
/**
 * User names; empty means everyone who sets themselves available (any role).
 */
members: Array<string>, 
/**
 * Supervisors who watch this queue: they see its conversations (see `access`).
 */
supervisors: Array<string>, 
/**
 * Operating hours; `None` is always open.
 */
hours: Hours | null, 
/**
 * Answered within this long counts toward the service level (for the board).
 */
serviceLevel: ServiceLevel | null, 
/**
 * What happens when too many wait or wait too long, checked in order.
 */
overflow: Array<Overflow>, };

export type QueueEntry = { 
/**
 * The queue's ID (URL-safe, fixed).
 */
id: string, 
/**
 * Its set-up.
 */
queue: Queue, };

export type AgentSettings = { 
/**
 * Capacity units, 0 to 100.
 */
capacity: number, };

export type Share = { 
/**
 * The queue.
 */
queue: string, 
/**
 * Percent of the rule's conversations, 1 to 100.
 */
percent: number, };

export type SkillMatch = "exact" | "closest";

export type PresenceRules = { 
/**
 * After an offer lapsed unanswered: `inactive`, `away` or `do_not_disturb` (none:
 * unchanged).
 */
afterMissed: Presence | null, 
/**
 * After a reject: `do_not_disturb` or `away` (none: unchanged).
 */
afterReject: Presence | null, };

export type ServiceLevel = { 
/**
 * Target share, 1 to 100.
 */
percent: number, 
/**
 * Answered within, milliseconds.
 */
withinMs: number, };

export type Overflow = { 
/**
 * The condition.
 */
when: OverflowWhen, 
/**
 * The action.
 */
action: OverflowAction, };

export type OverflowWhen = { "kind": "waitingOver", 
/**
 * How many may wait.
 */
count: number, } | { "kind": "oldestOver", 
/**
 * Milliseconds.
 */
ms: number, };

export type OverflowAction = { "kind": "moveTo", 
/**
 * The queue.
 */
queue: string, } | { "kind": "message", 
/**
 * Text per language.
 */
text: { [key in string]: string }, };

export type RuleTest = { 
/**
 * The rules to try.
 */
workstream: Workstream, 
/**
 * The first message.
 */
text: string, 
/**
 * The customer's LINE language (`th`, `zh-TW`…), if known.
 */
language: string | null, 
/**
 * Whether the customer follows the account.
 */
following: boolean, 
/**
 * The linked contact's fields (`company`, custom fields…); none: not linked.
 */
contact: { [key in string]: string } | null, };

export type RuleTestAnswer = { 
/**
 * The first rule that matched (0-based); none: the fallback queue.
 */
rule: number | null, 
/**
 * Its name.
 */
ruleName: string | null, 
/**
 * The queues and their shares (one queue at 100 % without a split).
 */
queues: Array<Share>, 
/**
 * Skills a representative would need.
 */
requiredSkills: Array<string>, 
/**
 * How they would match.
 */
skillMatch: SkillMatch, };

export type ChannelCheck = "check" | "webhook" | "test" | "retry_media";

export type ListChannels = Record<symbol, never>;

export type AddChannel = { 
/**
 * The channel's credentials and name.
 */
channel: NewChannel, };

export type UpdateChannel = { 
/**
 * LINE channel ID.
 */
channelId: string, 
/**
 * What changes.
 */
update: ChannelUpdate, };

export type CheckChannel = { 
/**
 * LINE channel ID.
 */
channelId: string, 
/**
 * What to do.
 */
check: ChannelCheck, };

export type RemoveChannel = { 
/**
 * LINE channel ID.
 */
channelId: string, 
/**
 * The farewell to customers, if any.
 */
farewell: DeleteChannel, };

export type ListUsers = Record<symbol, never>;

export type AddUser = { 
/**
 * The new user.
 */
user: NewUser, };

export type UpdateUser = { 
/**
 * Login name.
 */
name: string, 
/**
 * What changes.
 */
update: UserUpdate, };

export type RemoveUser = { 
/**
 * Login name.
 */
name: string, };

export type ListQueues = Record<symbol, never>;

export type PutQueue = { 
/**
 * The queue's ID: 1 to 64 letters, digits, `-` or `_`.
 */
id: string, 
/**
 * Its set-up.
 */
queue: Queue, };

export type GetWorkstream = { 
/**
 * LINE channel ID.
 */
channelId: string, };

export type PutWorkstream = { 
/**
 * LINE channel ID.
 */
channelId: string, 
/**
 * The workstream.
 */
workstream: Workstream, };

export type TestRule = { 
/**
 * LINE channel ID.
 */
channelId: string, 
/**
 * The sample.
 */
test: RuleTest, };

export type SetCapacity = { 
/**
 * Login name.
 */
user: string, 
/**
 * The capacity.
 */
settings: AgentSettings, };

export type SearchContacts = { 
/**
 * Part of a name, email or phone; empty lists the first ones.
 */
query: string, };

export type GetContact = { 
/**
 * Contact ID.
 */
id: number, };

export type CreateContact = { 
/**
 * The contact.
 */
contact: NewContact, };

export type UpdateContact = { 
/**
 * Contact ID.
 */
id: number, 
/**
 * The fields.
 */
fields: ContactFields, };

export type LinkProfile = { 
/**
 * Contact ID.
 */
id: number, 
/**
 * The profile and why.
 */
link: LinkRequest, };

export type UnlinkProfile = { 
/**
 * Contact ID.
 */
id: number, 
/**
 * The profile and why.
 */
link: LinkRequest, };

export type MergeContacts = { 
/**
 * The contact that stays.
 */
id: number, 
/**
 * The one that disappears.
 */
merge: MergeRequest, };

export type EraseContact = { 
/**
 * Contact ID.
 */
id: number, };

export type GetProfile = { 
/**
 * LINE channel ID.
 */
channelId: string, 
/**
 * LINE user ID.
 */
userId: string, };

export type GetReport = { 
/**
 * First day, `YYYY-MM-DD`.
 */
from: string, 
/**
 * Last day, `YYYY-MM-DD`, inclusive.
 */
to: string, 
/**
 * How to group the rows.
 */
by: ReportGroup, };

export type QuickReply = { 
/**
 * Its ID.
 */
id: number, 
/**
 * The team's (kept by supervisors and admins), or `owner`'s own.
 */
team: boolean, 
/**
 * Whose own it is (`None` for the team's).
 */
owner: string | null, 
/**
 * What the picker lists.
 */
title: string, 
/**
 * The text by language (BCP-47: `en`, `zh-TW`, `ja`, `th` …).
 */
texts: { [key in string]: string }, 
/**
 * A picture sent after the text, if any.
 */
image: QuickReplyImage | null, 
/**
 * Last changed, UTC ms.
 */
updatedAt: number, };

export type QuickReplyInput = { 
/**
 * The team's (supervisors and admins only) or the writer's own.
 */
team: boolean, 
/**
 * 1 to [`MAX_TITLE`] characters.
 */
title: string, 
/**
 * At least one language; each text 1 to [`MAX_TEXT`] UTF-16 units.
 */
texts: { [key in string]: string }, 
/**
 * A picture sent after the text: an image uploaded to the relay.
 */
image: QuickReplyImage | null, };

export type QuickReplyImage = { 
/**
 * The picture (`…/o/{token}`).
 */
url: string, 
/**
 * Its preview (`…/o/{token}/preview`).
 */
previewUrl: string, };

export type Uploaded = { 
/**
 * `image`, `video`, `audio` or `file` (send as a link).
 */
kind: string, 
/**
 * Where LINE (or the customer, for a document) fetches it.
 */
url: string, 
/**
 * The preview image (image and video).
 */
previewUrl: string | null, 
/**
 * Served content type.
 */
contentType: string, 
/**
 * Bytes.
 */
size: number, 
/**
 * File name.
 */
fileName: string, };

export type AddQuickReply = { 
/**
 * The reply.
 */
reply: QuickReplyInput, };

export type UpdateQuickReply = { 
/**
 * Which.
 */
id: number, 
/**
 * What it says now.
 */
reply: QuickReplyInput, };

export type RemoveQuickReply = { 
/**
 * Which.
 */
id: number, };

export type ReminderRequest = { 
/**
 * When, UTC ms: in the future, at most [`REMINDER_MAX_MS`] ahead.
 */
at: number, 
/**
 * What to do then, at most [`REMINDER_NOTE_MAX`] characters (may be empty).
 */
note: string, };

export type Reminder = { 
/**
 * Its id.
 */
id: string, 
/**
 * The relay conversation.
 */
conversationId: string, 
/**
 * The chat (the console's conversation).
 */
chatId: string, 
/**
 * When, UTC ms.
 */
at: number, 
/**
 * What to do then.
 */
note: string, };

export type SetReminder = { 
/**
 * The relay conversation.
 */
conversationId: string, 
/**
 * When, and what for.
 */
reminder: ReminderRequest, };

export type ListReminders = Record<symbol, never>;

export type CancelReminder = { 
/**
 * Which.
 */
id: string, };

export type ViewingRequest = { 
/**
 * The user is typing in it (the composer or the note box).
 */
typing: boolean, };

export type Viewer = { 
/**
 * Who.
 */
user: string, 
/**
 * Typing in it now.
 */
typing: boolean, };

export type Viewing = { 
/**
 * The relay conversation.
 */
conversationId: string, 
/**
 * Typing or not.
 */
viewing: ViewingRequest, };

export type ChannelQuota = { 
/**
 * Messages counted this month (push; replies are free), when known.
 */
used: number | null, 
/**
 * The monthly limit; `None` when the plan has none or it is not known.
 */
limit: number | null, };

export type GetChannelQuota = { 
/**
 * The channel.
 */
channelId: string, };

export type ReportGroup = "day" | "channel" | "queue" | "agent";

export type ReportRow = { 
/**
 * The group: a day `YYYY-MM-DD`, a channel ID, a queue ID or a user name.
 */
key: string, 
/**
 * Conversations opened by a customer's message.
 */
received: number, 
/**
 * Conversations a representative took (first acceptance).
 */
accepted: number, 
/**
 * Closed conversations in which a representative wrote.
 */
answered: number, 
/**
 * Closed conversations in which no representative wrote.
 */
unanswered: number, 
/**
 * Hand-overs to another representative or queue.
 */
transfers: number, 
/**
 * Offers that ended without the representative taking them (rejected, timed out, or
 * withdrawn when they left).
 */
declines: number, 
/**
 * Accepted in a queue with a service-level target.
 */
targeted: number, 
/**
 * Of those, accepted within the target.
 */
withinTarget: number, 
/**
 * Waiting time (opened to accepted): median, ms.
 */
waitMedianMs: number | null, 
/**
 * Waiting time: 90th percentile, ms.
 */
waitP90Ms: number | null, 
/**
 * Time to first response (opened to a representative's first message): median, ms.
 */
firstResponseMedianMs: number | null, 
/**
 * Time to first response: 90th percentile, ms.
 */
firstResponseP90Ms: number | null, 
/**
 * Handle time (accepted to ended): average, ms.
 */
handleAvgMs: number | null, 
/**
 * Wrap-up time (ended to closed): average, ms.
 */
wrapUpAvgMs: number | null, 
/**
 * Survey questions sent.
 */
surveysSent: number, 
/**
 * Survey ratings received.
 */
surveysAnswered: number, 
/**
 * Average rating (1 = the scale's first choice).
 */
ratingAvg: number | null, 
/**
 * Messages sent as replies (free).
 */
sentFree: number, 
/**
 * Messages sent as pushes (counted against the channel's monthly quota).
 */
sentMetered: number, };

export type Report = { 
/**
 * First day, `YYYY-MM-DD`, inclusive.
 */
from: string, 
/**
 * Last day, inclusive.
 */
to: string, 
/**
 * How the rows are grouped.
 */
group: ReportGroup, 
/**
 * The time zone days are counted in (IANA name).
 */
timeZone: string, 
/**
 * One row per group that had anything.
 */
rows: Array<ReportRow>, 
/**
 * The whole range (its `key` is empty).
 */
total: ReportRow, };

/** Every relay call of the set-up, contact and profile screens (command `relay_call`). */
export interface RelayApi {
  listChannels(args: ListChannels): Promise<Array<ChannelHealth>>;
  addChannel(args: AddChannel): Promise<ChannelHealth>;
  updateChannel(args: UpdateChannel): Promise<ChannelHealth>;
  checkChannel(args: CheckChannel): Promise<ChannelHealth>;
  removeChannel(args: RemoveChannel): Promise<ChannelHealth>;
  listUsers(args: ListUsers): Promise<Array<UserInfo>>;
  addUser(args: AddUser): Promise<UserInfo>;
  updateUser(args: UpdateUser): Promise<UserInfo>;
  removeUser(args: RemoveUser): Promise<null>;
  listQueues(args: ListQueues): Promise<Array<QueueEntry>>;
  putQueue(args: PutQueue): Promise<Queue>;
  getWorkstream(args: GetWorkstream): Promise<Workstream>;
  putWorkstream(args: PutWorkstream): Promise<Workstream>;
  testRule(args: TestRule): Promise<RuleTestAnswer>;
  setCapacity(args: SetCapacity): Promise<AgentSnapshot>;
  searchContacts(args: SearchContacts): Promise<Array<Contact>>;
  getContact(args: GetContact): Promise<ContactSummary>;
  createContact(args: CreateContact): Promise<ContactSummary>;
  updateContact(args: UpdateContact): Promise<ContactSummary>;
  linkProfile(args: LinkProfile): Promise<ContactSummary>;
  unlinkProfile(args: UnlinkProfile): Promise<ContactSummary>;
  mergeContacts(args: MergeContacts): Promise<ContactSummary>;
  eraseContact(args: EraseContact): Promise<Erased>;
  getProfile(args: GetProfile): Promise<ProfileIdentity>;
  getReport(args: GetReport): Promise<Report>;
  addQuickReply(args: AddQuickReply): Promise<QuickReply>;
  updateQuickReply(args: UpdateQuickReply): Promise<QuickReply>;
  removeQuickReply(args: RemoveQuickReply): Promise<null>;
  setReminder(args: SetReminder): Promise<Reminder>;
  listReminders(args: ListReminders): Promise<Array<Reminder>>;
  cancelReminder(args: CancelReminder): Promise<null>;
  viewing(args: Viewing): Promise<Array<Viewer>>;
  getChannelQuota(args: GetChannelQuota): Promise<ChannelQuota>;
}

/** `RelayApi` over Tauri's `invoke`. */
export function relayApi(invoke: (cmd: string, args: Record<string, unknown>) => Promise<unknown>): RelayApi {
  const call = <A, R>(name: string) => (args: A) =>
    invoke("relay_call", { call: { call: name, args } }) as Promise<R>;
  return {
    listChannels: call<ListChannels, Array<ChannelHealth>>("listChannels"),
    addChannel: call<AddChannel, ChannelHealth>("addChannel"),
    updateChannel: call<UpdateChannel, ChannelHealth>("updateChannel"),
    checkChannel: call<CheckChannel, ChannelHealth>("checkChannel"),
    removeChannel: call<RemoveChannel, ChannelHealth>("removeChannel"),
    listUsers: call<ListUsers, Array<UserInfo>>("listUsers"),
    addUser: call<AddUser, UserInfo>("addUser"),
    updateUser: call<UpdateUser, UserInfo>("updateUser"),
    removeUser: call<RemoveUser, null>("removeUser"),
    listQueues: call<ListQueues, Array<QueueEntry>>("listQueues"),
    putQueue: call<PutQueue, Queue>("putQueue"),
    getWorkstream: call<GetWorkstream, Workstream>("getWorkstream"),
    putWorkstream: call<PutWorkstream, Workstream>("putWorkstream"),
    testRule: call<TestRule, RuleTestAnswer>("testRule"),
    setCapacity: call<SetCapacity, AgentSnapshot>("setCapacity"),
    searchContacts: call<SearchContacts, Array<Contact>>("searchContacts"),
    getContact: call<GetContact, ContactSummary>("getContact"),
    createContact: call<CreateContact, ContactSummary>("createContact"),
    updateContact: call<UpdateContact, ContactSummary>("updateContact"),
    linkProfile: call<LinkProfile, ContactSummary>("linkProfile"),
    unlinkProfile: call<UnlinkProfile, ContactSummary>("unlinkProfile"),
    mergeContacts: call<MergeContacts, ContactSummary>("mergeContacts"),
    eraseContact: call<EraseContact, Erased>("eraseContact"),
    getProfile: call<GetProfile, ProfileIdentity>("getProfile"),
    getReport: call<GetReport, Report>("getReport"),
    addQuickReply: call<AddQuickReply, QuickReply>("addQuickReply"),
    updateQuickReply: call<UpdateQuickReply, QuickReply>("updateQuickReply"),
    removeQuickReply: call<RemoveQuickReply, null>("removeQuickReply"),
    setReminder: call<SetReminder, Reminder>("setReminder"),
    listReminders: call<ListReminders, Array<Reminder>>("listReminders"),
    cancelReminder: call<CancelReminder, null>("cancelReminder"),
    viewing: call<Viewing, Array<Viewer>>("viewing"),
    getChannelQuota: call<GetChannelQuota, ChannelQuota>("getChannelQuota"),
  };
}
