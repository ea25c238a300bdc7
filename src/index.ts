// Public API. Everything under src/private/ and src/cli/ stays internal.
export {};
