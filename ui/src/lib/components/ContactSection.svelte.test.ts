// @vitest-environment happy-dom
// A customer's contact section against the fake backend: a contact being made stays open, with
// what was typed, while the conversation moves on; opening another conversation closes it.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mount, unmount } from "svelte";
import { fakeConsole, fakeState } from "../ipc/fake";
import type { Conversation, ConversationSnapshot } from "../ipc/types";
import { i18n } from "../i18n/i18n.svelte";
import { settle, type } from "./testing";
import ContactSection from "./ContactSection.svelte";

function conversation(id: number, chat: string, name: string): Conversation {
  return {
    id, channel_id: "1650000000", chat_id: chat, display_name: name, picture_url: null, language: "ja",
    following: true, last_message_at: 0, last_preview: null, unread: 0, reply_until: null,
    // Only its version matters here: it moves with each step of the conversation.
    routing: { version: 1 } as ConversationSnapshot,
  };
}

describe("contact section", () => {
  let target: HTMLElement;
  let component: ReturnType<typeof mount>;
  const props = $state({
    conversation: conversation(1, "U1", "Tanaka Ken"),
    role: "supervisor" as string | null,
    contacts: fakeConsole(fakeState(), "sam", "supervisor").contacts,
  });

  beforeEach(async () => {
    props.conversation = conversation(1, "U1", "Tanaka Ken");
    target = document.createElement("div");
    document.body.append(target);
    component = mount(ContactSection, { target, props });
    await settle();
  });

  afterEach(() => {
    unmount(component);
    target.remove();
  });

  const nameField = () => target.querySelector<HTMLInputElement>("input[name=contact-name]");

  async function startContact() {
    [...target.querySelectorAll("button")].find((b) => b.textContent === i18n.t("contact.new"))!.click();
    await settle();
    expect(nameField()?.value, "prefilled from the profile").toBe("Tanaka Ken");
    type(nameField()!, "Tanaka Ken (Osaka branch)");
    await settle();
  }

  it("keeps a contact being made, and what was typed, while the conversation moves on", async () => {
    await startContact();
    // The customer writes again: a fresh copy of the same conversation.
    props.conversation = { ...props.conversation, last_preview: "配送について", unread: 1 };
    await settle();
    expect(nameField()?.value).toBe("Tanaka Ken (Osaka branch)");
    // Accepted by a representative meanwhile: a new routing version of the same conversation.
    props.conversation = { ...props.conversation, routing: { version: 2 } as ConversationSnapshot };
    await settle();
    expect(nameField()?.value).toBe("Tanaka Ken (Osaka branch)");
  });

  it("closes it when another conversation opens", async () => {
    await startContact();
    props.conversation = conversation(2, "U2", "Mei");
    await settle();
    expect(nameField()).toBeNull();
    expect(target.textContent).toContain(i18n.t("contact.not_linked"));
  });
});
