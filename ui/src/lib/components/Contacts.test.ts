// @vitest-environment happy-dom
// The contacts screen against the fake backend: a contact is created through the form, and a
// refusal shows under its field in the user's language.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mount, unmount } from "svelte";
import { fakeConsole, fakeState, type FakeState } from "../ipc/fake";
import { i18n } from "../i18n/i18n.svelte";
import { settle, type } from "./testing";
import Contacts from "./Contacts.svelte";

const state: { current: FakeState } = { current: fakeState() };

describe("contacts", () => {
  let target: HTMLElement;
  let component: ReturnType<typeof mount>;

  beforeEach(async () => {
    state.current = fakeState();
    i18n.set("zh-TW");
    target = document.createElement("div");
    document.body.append(target);
    const app = fakeConsole(state.current, "sam", "supervisor");
    component = mount(Contacts, { target, props: { session: app.session, contacts: app.contacts, onclose: () => {} } });
    await settle();
  });

  afterEach(() => {
    unmount(component);
    target.remove();
    i18n.set("en");
  });

  it("creates a contact, saying under the phone why it was refused first", async () => {
    [...target.querySelectorAll("button")].find((b) => b.textContent?.includes(i18n.t("contacts.new")))!.click();
    await settle();
    const form = target.querySelector<HTMLFormElement>("form")!;
    type(form.querySelector<HTMLInputElement>("input[name=contact-name]")!, "王小明");
    type(form.querySelector<HTMLInputElement>("input[name=contact-phone]")!, "call me maybe");
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    const phone = form.querySelector<HTMLInputElement>("input[name=contact-phone]")!;
    expect(phone.closest("label")!.querySelector(".err")?.textContent).toBe("只能使用數字、空格與 + - ( )。");
    expect(phone.getAttribute("aria-invalid")).toBe("true");
    expect(state.current.contacts).toEqual([]);

    type(phone, "+886 2 1234 5678");
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    expect(state.current.contacts).toMatchObject([{ name: "王小明", phone: "+886 2 1234 5678" }]);
    expect(target.textContent).toContain("王小明");
  });
});
