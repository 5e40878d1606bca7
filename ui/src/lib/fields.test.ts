import { describe, expect, it } from "vitest";
import { fieldErrors } from "./fields";

describe("fieldErrors", () => {
  it("puts each named field's reason under it and keeps the rest", () => {
    const e = fieldErrors("token: LINE does not accept this access token\nsecret: does not belong\nLINE could not be reached", [
      "id",
      "token",
      "secret",
    ]);
    expect(e.fields).toEqual({ token: "LINE does not accept this access token", secret: "does not belong" });
    expect(e.other).toEqual(["LINE could not be reached"]);
  });
  it("does not take an unknown prefix for a field", () => {
    expect(fieldErrors("rules[0].queue: no such queue", ["name"]).other).toEqual(["rules[0].queue: no such queue"]);
  });
});
