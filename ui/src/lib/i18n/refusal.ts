// A relay refusal in the user's language: the relay names the field and a reason with its
// parameters (`Invalid` in bindings.ts); the words are ours, never the relay's English.
import type { IpcError, Reason, Warning } from "../ipc/bindings";
import { numberFormat } from "./formatters";
import { i18n } from "./i18n.svelte";

/** A duration as the admin would say it: "30 days", "1 hour", "10 seconds". */
export function durationText(ms: number): string {
  const [value, unit] =
    ms % 86_400_000 === 0 && ms > 0
      ? [ms / 86_400_000, "day"]
      : ms % 3_600_000 === 0 && ms > 0
        ? [ms / 3_600_000, "hour"]
        : ms % 60_000 === 0
          ? [ms / 60_000, "minute"]
          : [ms / 1000, "second"];
  return numberFormat(i18n.locale, { style: "unit", unit, unitDisplay: "long" }).format(value);
}

/** Why an entry was refused, as a sentence. */
export function reasonText(r: Reason): string {
  switch (r.kind) {
    case "required":
      return i18n.t("refusal.required");
    case "range":
      return i18n.t("refusal.range", { min: r.min, max: r.max });
    case "duration":
      return i18n.t("refusal.duration", { min: durationText(r.minMs), max: durationText(r.maxMs) });
    case "length":
      return i18n.t("refusal.length", { min: r.min, max: r.max });
    case "count":
      return i18n.t("refusal.count", { min: r.min, max: r.max });
    case "noSuchQueue":
      return i18n.t("refusal.no_such_queue");
    case "noSuchUser":
      return i18n.t("refusal.no_such_user");
    case "regex":
      return i18n.t("refusal.regex", { detail: r.detail });
    case "timeZone":
      return i18n.t("refusal.time_zone");
    case "timeOfDay":
      return i18n.t("refusal.time_of_day");
    case "weekday":
      return i18n.t("refusal.weekday");
    case "date":
      return i18n.t("refusal.date");
    case "closesBeforeOpens":
      return i18n.t("refusal.closes_before_opens");
    case "httpsUrl":
      return i18n.t("refusal.https_url");
    case "identifier":
      return i18n.t("refusal.identifier");
    case "fixed":
      return i18n.t("refusal.fixed");
    case "taken":
      return i18n.t("refusal.taken");
    case "duplicate":
      return i18n.t("refusal.duplicate");
    case "tooShort":
      return i18n.t("refusal.too_short", { min: r.min });
    case "phone":
      return i18n.t("refusal.phone");
    case "email":
      return i18n.t("refusal.email");
    case "lineUser":
      return i18n.t("refusal.line_user");
    case "channelId":
      return i18n.t("refusal.channel_id");
    case "credential":
      return i18n.t("refusal.credential");
    case "tokenOfOtherChannel":
      return i18n.t("refusal.token_of_other_channel", { channel: r.channel });
    case "tokenRefused":
      return i18n.t("refusal.token_refused", { detail: r.detail });
    case "secretRefused":
      return i18n.t("refusal.secret_refused");
    case "alreadySetUp":
      return i18n.t("refusal.already_set_up");
    case "ownRole":
      return i18n.t("refusal.own_role");
    case "sameContact":
      return i18n.t("refusal.same_contact");
    case "oneOf":
      return i18n.t("refusal.one_of", { values: r.values.join(", ") });
    case "percentages":
      return i18n.t("refusal.percentages");
    case "sameQueue":
      return i18n.t("refusal.same_queue");
    case "malformed":
      return i18n.t("refusal.malformed");
    case "noSuchConversation":
      return i18n.t("refusal.no_such_conversation");
    case "noSuchContact":
      return i18n.t("refusal.no_such_contact");
    case "unknownProfile":
      return i18n.t("refusal.unknown_profile");
    case "notOffered":
      return i18n.t("refusal.not_offered");
    case "ownedByOther":
      return r.owner ? i18n.t("refusal.owned_by", { owner: r.owner }) : i18n.t("refusal.owned_by_other");
    case "notQueueMember":
      return i18n.t("refusal.not_queue_member");
    case "supervisorOnly":
      return i18n.t("refusal.supervisor_only");
    case "notInState":
      return i18n.t("refusal.not_in_state", { state: stateText(r.state) });
    case "offline":
      return i18n.t("refusal.offline", { user: r.user });
    case "consultSelf":
      return i18n.t("refusal.consult_self");
    case "consultFirst":
      return i18n.t("refusal.consult_first");
    case "openConversations":
      return i18n.t("refusal.open_conversations");
    case "notChoosable":
      return i18n.t("refusal.not_choosable");
    case "noOpenConversation":
      return i18n.t("refusal.no_open_conversation");
    case "readOnlyConsult":
      return i18n.t("refusal.read_only_consult");
    case "attachmentsOff":
      return i18n.t("refusal.attachments_off");
    case "tooLarge":
      return i18n.t("refusal.too_large", { mb: Math.floor(r.maxBytes / 1_048_576) });
    case "yourself":
      return i18n.t("refusal.yourself");
    case "noWebhookYet":
      return i18n.t("refusal.no_webhook_yet");
    case "dayRange":
      return i18n.t("refusal.day_range", { max: r.maxDays });
  }
}

const STATES = ["open", "active", "waiting", "wrap_up", "closed"] as const;

/** A conversation state's name as the list shows it. */
function stateText(state: string): string {
  const known = STATES.find((s) => s === state);
  return known ? i18n.t(`state.${known}`) : state;
}

/** What a routing command that worked needs to tell the representative. */
export function warningText(w: Warning): string {
  switch (w.kind) {
    case "nobodyAvailable":
      return i18n.t("warning.nobody_available", { queue: w.queue });
    case "overCapacity":
      return i18n.t("warning.over_capacity", { user: w.user });
  }
}

/** An error for the toast: the relay's reasons in the user's words, else the code's sentence. */
export function errorText(e: IpcError): string {
  if (e.invalid.length === 0) return i18n.t(`error.${e.code}`);
  return e.invalid.map(reasonLine).join("\n");
}

/** One refused field ("phone: digits only"), or the request's reason alone. */
function reasonLine(f: IpcError["invalid"][number]): string {
  return f.field ? i18n.t("admin.refused_field", { field: f.field, reason: reasonText(f.reason) }) : reasonText(f.reason);
}

/** A whole refusal for a status line: each field and reason when the relay named them. */
export function refusalText(e: IpcError): string {
  if (e.invalid.length === 0) return i18n.t("admin.refused", { reason: e.message });
  return e.invalid.map(reasonLine).join("\n");
}

export type FieldErrors = { fields: Record<string, string>; other: string | null };

/** A refusal split for a form: each reason under the input of `known` that it concerns (a
 * field or one inside it: `custom.Plan` goes under `custom`), the rest in one line on top. */
export function fieldErrors(e: IpcError, known: readonly string[]): FieldErrors {
  const out: FieldErrors = { fields: {}, other: null };
  const rest: string[] = [];
  for (const f of e.invalid) {
    const under = known.find((k) => f.field === k || f.field.startsWith(`${k}.`) || f.field.startsWith(`${k}[`));
    if (under && !(under in out.fields)) out.fields[under] = reasonText(f.reason);
    else rest.push(reasonLine(f));
  }
  if (e.invalid.length === 0) rest.push(i18n.t("admin.refused", { reason: e.message }));
  out.other = rest.length ? rest.join(" ") : null;
  return out;
}
