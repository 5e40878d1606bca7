// @vitest-environment happy-dom
// The users screen against the fake backend: adding, editing and removing reach the relay as
// typed calls, and a refusal shows under the field it concerns, in the user's language.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mount, unmount } from "svelte";
import { fakeConsole, fakeState, type FakeState } from "../ipc/fake";
import { i18n } from "../i18n/i18n.svelte";
import { settle, type } from "./testing";
import AdminUsers from "./AdminUsers.svelte";

const state: { current: FakeState } = { current: fakeState() };

describe("users and roles", () => {
  let target: HTMLElement;
  let component: ReturnType<typeof mount>;

  beforeEach(async () => {
    state.current = fakeState();
    i18n.set("en");
    target = document.createElement("div");
    document.body.append(target);
    const app = fakeConsole(state.current, "ada");
    component = mount(AdminUsers, { target, props: { session: app.session, admin: app.admin } });
    await settle();
  });

  afterEach(() => {
    unmount(component);
    target.remove();
    i18n.set("en");
  });

  it("adds a representative, and says under the field why a short password is refused, in Thai", async () => {
    i18n.set("th");
    await settle();
    const form = target.querySelector<HTMLFormElement>("form.add")!;
    type(form.querySelector<HTMLInputElement>("input[name=new-user-name]")!, "pim");
    type(form.querySelector<HTMLInputElement>("input[name=new-user-password]")!, "short");
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    const under = form.querySelector<HTMLInputElement>("input[name=new-user-password]")!.closest("label")!.querySelector(".err");
    expect(under?.textContent).toBe("ใช้อย่างน้อย 8 ตัวอักษร");
    expect(state.current.users.map((u) => u.name)).not.toContain("pim");

    type(form.querySelector<HTMLInputElement>("input[name=new-user-password]")!, "correct horse battery");
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    expect(state.current.users.find((u) => u.name === "pim")).toMatchObject({ role: "rep", capacity: 3 });
    expect(form.querySelector(".err")).toBeNull();
  });

  it("saves a representative's skills and removes a user after a confirmation", async () => {
    type(target.querySelector<HTMLInputElement>("input[name=skills-noi]")!, "thai, billing");
    const card = target.querySelector<HTMLInputElement>("input[name=skills-noi]")!.closest(".user")!;
    [...card.querySelectorAll("button")].find((b) => b.textContent === "Save")!.click();
    await settle();
    expect(state.current.users.find((u) => u.name === "noi")?.skills).toEqual(["thai", "billing"]);

    [...card.querySelectorAll("button")].find((b) => b.textContent === "Remove…")!.click();
    await settle();
    expect(state.current.calls).not.toContain("removeUser");
    [...card.querySelectorAll("button")].find((b) => b.textContent?.startsWith("Remove noi"))!.click();
    await settle();
    expect(state.current.users.map((u) => u.name)).toEqual(["ada", "rita"]);
  });
});
