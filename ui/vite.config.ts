import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig({
  plugins: [svelte()],
  // Component tests mount Svelte's client runtime, not its server build.
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  clearScreen: false,
  build: { target: "safari16", outDir: "dist", emptyOutDir: true },
});
