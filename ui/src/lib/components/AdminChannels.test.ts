// @vitest-environment happy-dom
// The channels screen against the fake backend: adding a channel (LINE's verdict on the token
// under its field, in the user's language), setting the webhook, the consent message and
// deleting a channel reach the relay as typed calls and show what the relay answered.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mount, unmount } from "svelte";
import { fakeConsole, fakeState, type FakeState } from "../ipc/fake";
import { i18n } from "../i18n/i18n.svelte";
import { settle, type } from "./testing";
import AdminChannels from "./AdminChannels.svelte";

const state: { current: FakeState } = { current: fakeState() };

function button(root: HTMLElement, text: string): HTMLButtonElement {
  const b = [...root.querySelectorAll("button")].find((x) => x.textContent?.trim() === text);
  if (!b) throw new Error(`no button ${text}`);
  return b;
}

function submit(form: HTMLFormElement) {
  form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
}

describe("channels", () => {
  let target: HTMLElement;
  let component: ReturnType<typeof mount>;

  beforeEach(async () => {
    state.current = fakeState();
    i18n.set("en");
    target = document.createElement("div");
    document.body.append(target);
    component = mount(AdminChannels, { target, props: { admin: fakeConsole(state.current, "ada").admin } });
    await settle();
  });

  afterEach(() => {
    unmount(component);
    target.remove();
    i18n.set("en");
  });

  it("adds a channel, showing LINE's refusal of the token under it in Japanese", async () => {
    i18n.set("ja");
    await settle();
    button(target, `+ ${i18n.t("channels.add")}`).click();
    await settle();
    const form = target.querySelector<HTMLFormElement>("form.card")!;
    const field = (name: string) => form.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
    type(field("id"), "1650000001");
    type(field("name"), "Support JP");
    type(field("secret"), "0123456789abcdef0123456789abcdef");
    type(field("token"), "bad");
    submit(form);
    await settle();

    const under = field("token").closest("label")!.querySelector(".err");
    expect(under?.textContent).toBe(i18n.t("refusal.token_refused", { detail: "Authentication failed" }));
    expect(under?.textContent).toContain("LINE がこのアクセストークンを受け付けません");
    expect(field("token").getAttribute("aria-invalid")).toBe("true");
    expect(state.current.channels.map((c) => c.id)).toEqual(["1650000000"]);

    type(field("token"), "a-long-lived-token-WXYZ");
    submit(form);
    await settle();
    expect(state.current.channels.map((c) => c.id)).toEqual(["1650000000", "1650000001"]);
    // The new channel is shown, with its callback URL to paste into LINE.
    expect(target.querySelector<HTMLInputElement>("#callback-url")?.value).toBe("https://relay.example.com/line/1650000001/webhook");
    expect(target.querySelector(".status")?.textContent).toBe(i18n.t("channels.added", { name: "Support JP" }));
  });

  it("sets the webhook in LINE and shows it as ours", async () => {
    button(target, i18n.t("channels.set_webhook")).click();
    await settle();
    expect(state.current.calls).toContain("checkChannel:webhook");
    expect(target.textContent).toContain(i18n.t("channels.webhook_ours"));
    expect(target.querySelector(".status")?.textContent).toBe(i18n.t("channels.webhook_set"));
  });

  it("refuses a consent message with no text, under the message, then saves one in Thai", async () => {
    const form = [...target.querySelectorAll<HTMLFormElement>("form.card")].find((f) => f.textContent?.includes(i18n.t("channels.consent_heading")))!;
    const on = form.querySelector<HTMLInputElement>("input[type=checkbox]")!;
    on.click();
    await settle();
    submit(form);
    await settle();
    expect(form.querySelector(".err")?.textContent).toBe(i18n.t("refusal.required"));
    expect(state.current.channels[0].consent).toBeNull();

    const text = form.querySelector<HTMLTextAreaElement>("textarea")!;
    type(text, "เราจะเก็บข้อความของคุณไว้ 90 วัน");
    submit(form);
    await settle();
    expect(form.querySelector(".err")).toBeNull();
    expect(Object.values(state.current.channels[0].consent?.message ?? {})).toEqual(["เราจะเก็บข้อความของคุณไว้ 90 วัน"]);
  });

  it("deletes a channel after a confirmation, keeping it listed as deleted", async () => {
    button(target, i18n.t("channels.delete")).click();
    await settle();
    expect(state.current.calls).not.toContain("removeChannel");
    button(target, i18n.t("channels.delete_now")).click();
    await settle();
    expect(state.current.channels[0].deletedAt).not.toBeNull();
    expect(target.querySelector(".chip.gone")?.textContent).toContain(i18n.t("channels.deleted"));
    expect(target.querySelector("#callback-url")).toBeNull();
  });
});
