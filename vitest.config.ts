// Only the board's own unit tests: other directories (virtualenvs, node_modules) may hold foreign test files.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["js/**/*.test.ts"],
    environment: "node",
  },
});
