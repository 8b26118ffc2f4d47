// Preloaded by bun test (bunfig.toml): tests are quiet and clock-independent of the host zone.
process.env.TZ = "UTC";
process.env.VIGIL_LOG_LEVEL ??= "silent";
