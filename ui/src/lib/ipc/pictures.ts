// The console's one picture cache, over the shell.
import { PictureCache } from "../pictures";
import { backend } from "./client";

export const pictures = new PictureCache((p) => backend.fetchPicture(p));
