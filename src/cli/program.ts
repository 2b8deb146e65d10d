/**
 * The program: its commands, options, help and exit codes. src/cli/main.ts (the installed command)
 * loads it from these modules or from its one-file build (scripts/bundle-cli.mjs).
 */
import { closeSync } from "node:fs";
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { EXIT } from "../errors.js";
import { toolVersion } from "../util/paths.js";
import { DB_FLAG, optionsOpenWizard, REHEARSE_FLAG } from "./wizard-args.js";
import { runWizard, uncaught } from "./wizard-entry.js";
import type { Handler } from "./run.js";

const HELP_FOOTER = `
Exit codes: 0 success (a dry-run that produced its plan) · 1 failed (nothing was lost) ·
2 usage error · 3 refused by a safety gate · 4 LegacySchemaChain (run the cutover).
Which database: --db PATH, else VOX_DB_URL (+VOX_DB_TOKEN), VOX_DB_PATH, $VOX_DATA_DIR/vox.db,
the platform data dir's vox/vox.db, else ./app.db. Every command says which and why.

Examples:
  vox-cutover                                   # the wizard (in a terminal)
  vox-cutover diagnose --db ./vox.db            # read-only: what the file is and what to run next
  vox-cutover rehearse --db ./vox.db            # the whole cutover on a clone
  vox-cutover cutover --db ./vox.db --apply --plan DIGEST`;

/** One example per command, shown at the end of its --help (every one runs as printed on a sample). */
const EXAMPLES: Record<string, string[]> = {
  wizard: ["vox-cutover wizard --db ~/.local/share/vox/vox.db", "vox-cutover wizard --db ./vox.db --rehearse   # the same wizard on a clone"],
  digest: ["vox-cutover digest --json"],
  "ssot-drift": ["vox-cutover ssot-drift"],
  diagnose: ["vox-cutover diagnose --db ./vox.db", "vox-cutover diagnose --db ./vox.db --json > diagnosis.json"],
  verify: ["vox-cutover verify --db ./vox.db"],
  migrate: ["vox-cutover migrate --db ./vox.db                # the plan and its digest", "vox-cutover migrate --db ./vox.db --apply --plan DIGEST"],
  "export-legacy": ["vox-cutover export-legacy /backups/vox-backup.jsonl --db ./vox.db"],
  "verify-backup": ["vox-cutover verify-backup /backups/vox-backup.jsonl --db ./vox.db"],
  "import-legacy": [
    "vox-cutover import-legacy /backups/vox-backup.jsonl --db ./new.db            # the plan",
    "vox-cutover import-legacy /backups/vox-backup.jsonl --db ./new.db --apply",
  ],
  cutover: [
    "vox-cutover cutover --db ./vox.db                          # dry-run: the plan and its digest",
    "vox-cutover cutover --db ./vox.db --apply --plan DIGEST",
    "vox-cutover cutover --db ./vox.db --resume --apply           # after an interruption",
    "vox-cutover cutover --db ./vox.db --rollback --apply         # undo",
  ],
  rehearse: ["vox-cutover rehearse --db ./vox.db", "vox-cutover rehearse --db ./vox.db --keep   # keep the scratch folder to read its report"],
  sidecar: ["vox-cutover sidecar --db ./vox.db", "vox-cutover sidecar --db ./vox.db --apply --merge"],
  "telemetry-check": ["vox-cutover telemetry-check runs/*.jsonl"],
  "news-check": ["vox-cutover news-check --db ./vox.db", "vox-cutover news-check --db ./vox.db --apply"],
  drill: ["vox-cutover drill --db ./vox.db --work-dir /tmp/drill"],
  gate: ["vox-cutover gate --db ./vox.db --drill --telemetry runs/train.jsonl --news"],
  ledger: ["vox-cutover ledger --db ./vox.db"],
  sample: ["vox-cutover sample /tmp/rehearsal/vox.db --rows 200"],
};

/** The command runner, loaded when a command runs (it loads libsql and the guards: the wizard and --help need neither first). */
async function runCommand(...args: Parameters<typeof import("./run.js").runCommand>): Promise<number> {
  return (await import("./run.js")).runCommand(...args);
}

function lazy(load: () => Promise<Handler>): Handler {
  return async (ctx, ...args) => (await load())(ctx, ...args);
}

const handlers = {
  digest: lazy(async () => (await import("./commands/digest.js")).digestCommand),
  ssotDrift: lazy(async () => (await import("./commands/ssot-drift.js")).ssotDriftCommand),
  diagnose: lazy(async () => (await import("./commands/diagnose.js")).diagnoseCommand),
  verify: lazy(async () => (await import("./commands/verify.js")).verifyCommand),
  migrate: lazy(async () => (await import("./commands/migrate.js")).migrateCommand),
  sample: lazy(async () => (await import("./commands/sample.js")).sampleCommand),
  exportLegacy: lazy(async () => (await import("./commands/export-legacy.js")).exportLegacyCommand),
  verifyBackup: lazy(async () => (await import("./commands/verify-backup.js")).verifyBackupCommand),
  importLegacy: lazy(async () => (await import("./commands/import-legacy.js")).importLegacyCommand),
  cutover: lazy(async () => (await import("./commands/cutover.js")).cutoverCommand),
  rehearse: lazy(async () => (await import("./commands/rehearse.js")).rehearseCommand),
  sidecar: lazy(async () => (await import("./commands/sidecar.js")).sidecarCommand),
  telemetryCheck: lazy(async () => (await import("./commands/telemetry-check.js")).telemetryCheckCommand),
  newsCheck: lazy(async () => (await import("./commands/news-check.js")).newsCheckCommand),
  drill: lazy(async () => (await import("./commands/drill.js")).drillCommand),
  gate: lazy(async () => (await import("./commands/gate.js")).gateCommand),
  ledger: lazy(async () => (await import("./commands/ledger.js")).ledgerCommand),
};

let exitCode: number = EXIT.ok;

function action(name: string, handler: Handler) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    // A command that takes --apply and was not given it is a dry-run (its JSON's mode, a failure's too).
    const opts = { ...cmd.opts(), ...(cmd.options.some((o) => o.long === "--apply") && !cmd.opts().apply ? { apply: false } : {}) };
    const positional = args.slice(0, -2);
    exitCode = await runCommand(name, opts, handler, positional);
  };
}

/** `--db --json`: the value was left out, and the next option would be taken for it; `--backup ''`: no path at all (a usage error, 2, both). */
const notAnOption = (flag: string, what: string) => (v: string) => {
  if (v.startsWith("--")) throw new InvalidArgumentError(`${v} is an option, not ${what}: the value after ${flag} is missing.`);
  // A path left empty (--plan's own check names an empty digest: safety/guard.ts checkPlanOption).
  if (v === "" && flag !== "--plan") throw new InvalidArgumentError(`${flag} was given an empty value: it needs ${what}.`);
  return v;
};
/** A positional path (OUT, IN, FILE…): an empty one was the current folder ("is a directory", 3) — a usage error (2), as for the options. */
const pathArg = (name: string, description: string) => {
  const notEmpty = (v: string) => {
    if (v === "") throw new InvalidArgumentError(`${name.replace(/\.\.\.$/, "")} was given an empty value: it needs a path.`);
    return v;
  };
  const arg = new Argument(`<${name}>`, description);
  return name.endsWith("...") ? arg.argParser((v: string, was?: string[]) => [...(was ?? []), notEmpty(v)]) : arg.argParser(notEmpty);
};
const dbOpt = () =>
  new Option(`${DB_FLAG} <path>`, "the database file (or libsql:// URL); overrides the environment").argParser(notAnOption(DB_FLAG, "a path"));
const jsonOpt = () => new Option("--json", "one JSON object on stdout, human text on stderr");
const applyOpt = () => new Option("--apply", "do it (without --apply: a dry-run that changes nothing)");
const planOpt = () =>
  new Option("--plan <digest>", "with --apply: refuse unless the plan is still the reviewed one").argParser(notAnOption("--plan", "a digest"));
const workDirOpt = () =>
  new Option("--work-dir <dir>", "where backups, journal, archive and reports go (default: vox-cutover-runs/<UTC> beside the database)").argParser(
    notAnOption("--work-dir", "a folder"),
  );
const backupOpt = () => new Option("--backup <path>", "backup file (default: in the work dir)").argParser(notAnOption("--backup", "a path"));
const targetOpt = () =>
  new Option(
    "--target-schema <FILE|vox>",
    "target schema: a database freshly created by your vox (VOX_DB_PATH=FILE vox codex verify), or `vox` to run the vox on PATH in a scratch folder (default: the bundled vox baseline)",
  );

/** The options of every command that plans and applies a change to a database. */
function planApplyOptions(cmd: Command): Command {
  return cmd.addOption(dbOpt()).addOption(jsonOpt()).addOption(applyOpt()).addOption(planOpt()).addOption(workDirOpt()).addOption(backupOpt());
}

function buildProgram(): Command {
  const program = new Command("vox-cutover")
    .description(
      "Walks operators through the VoxDB cutover runbook: diagnose, back up and prove it, build the baseline file, import, swap — without losing a row.",
    )
    .version(toolVersion(), "--version", "print the version")
    .helpOption("-h, --help", "show help")
    .addHelpText("after", HELP_FOOTER)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(s.replace(/\n?$/, "\n") + "Nothing was read or changed. See `vox-cutover --help` (or `vox-cutover COMMAND --help`).\n"),
    });

  program
    .command("wizard", { isDefault: false })
    .description("the interactive runbook, Stages 0–4 (the default in a terminal)")
    .addOption(dbOpt())
    .option(REHEARSE_FLAG, "run the wizard on a clone of the database")
    .addOption(targetOpt())
    .action(async (o: { db?: string; rehearse?: boolean; targetSchema?: string }) => {
      if (o.targetSchema !== undefined) {
        const code = await runCommand("wizard", { targetSchema: o.targetSchema }, async () => ({ ok: true, mode: "read" }), []);
        if (code !== EXIT.ok) {
          exitCode = code;
          return;
        }
      }
      exitCode = await runWizard({ db: o.db, rehearse: o.rehearse });
    });
  program
    .command("digest")
    .description("print the baseline digest (0x… Keccak-256 of the baseline SQL)")
    .addOption(jsonOpt())
    .action(action("digest", handlers.digest));
  program
    .command("ssot-drift")
    .description("contract vs manifest vs baseline SQL: integer and digest parity (exit 3 on drift)")
    .addOption(jsonOpt())
    .action(action("ssot-drift", handlers.ssotDrift));
  program
    .command("diagnose")
    .description("read-only: chain, versions, tables and rows, sidecar, what it means and what to run next")
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .addOption(targetOpt())
    .action(action("diagnose", handlers.diagnose));
  program
    .command("verify")
    .description("Codex verify: chain, baseline integer and digest, required tables (exit 4 on legacy/ahead)")
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .addOption(targetOpt())
    .action(action("verify", handlers.verify));
  planApplyOptions(
    program
      .command("migrate")
      .addOption(targetOpt())
      .description(
        "missing/empty → baseline; behind (or drifted) → folded in a copy after a verified backup, then swapped in (the original archived); legacy/ahead → exit 4 (dry-run unless --apply)",
      ),
  ).action(action("migrate", handlers.migrate));
  program
    .command("export-legacy")
    .description("stream every table to a verified, type-faithful backup (read-only, no migration)")
    .addArgument(pathArg("OUT", "backup file to write (JSONL)"))
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .option("--force", "replace an existing OUT")
    .action(action("export-legacy", handlers.exportLegacy));
  program
    .command("verify-backup")
    .description("re-read a backup: structure, every hash recomputed, and counts/hashes against the database (exit 3 on mismatch)")
    .addArgument(pathArg("IN", "backup file"))
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .action(action("verify-backup", handlers.verifyBackup));
  program
    .command("import-legacy")
    .description("load a verified backup into a baseline database with replace semantics; misfits go to legacy_quarantine (dry-run unless --apply)")
    .addArgument(pathArg("IN", "backup file"))
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .addOption(applyOpt())
    .addOption(planOpt())
    .option("--accept-unverified", "accept a reference-format file (no hashes) that cannot be verified")
    .addOption(workDirOpt())
    .addOption(targetOpt())
    .action(action("import-legacy", handlers.importLegacy));
  planApplyOptions(
    program
      .command("cutover")
      .addOption(targetOpt())
      .description(
        "Stages 0–4 without prompts: preflight, export, verify, build beside, import, check, swap, ledger, sidecar, telemetry, news (dry-run unless --apply)",
      ),
  )
    .option("--resume", "continue the unfinished run recorded in the journal")
    .option(
      "--rollback",
      "undo the unfinished run (restore the old primary if it was swapped, remove only the run's temporary files), or after a finished cutover put the archived original back (the new file is kept in the work dir)",
    )
    .option("--break-lock", "take over a lock another run holds (its holder is shown)")
    .option("--force", "with --rollback after a finished cutover: roll back although the database changed since (the changed new file is kept in the work dir)")
    .option("--no-sidecar-merge", "Stage 2: archive the sidecar without merging its rows first")
    .option("--telemetry <files...>", "Stage 3: telemetry JSONL files to check")
    .action(action("cutover", handlers.cutover));
  program
    .command("rehearse")
    .description("clone the database (and sidecar) into a scratch folder and run the whole cutover there with --apply; the original stays byte-identical")
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .addOption(workDirOpt())
    .addOption(targetOpt())
    .option("--keep", "keep the scratch folder (clone, backup, archive, reports) after the rehearsal")
    .action(action("rehearse", handlers.rehearse));
  program
    .command("sidecar")
    .description("Stage 2: report what vox_training_telemetry.db holds; --apply backs it up, optionally --merge, then archives it (never deletes)")
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .addOption(applyOpt())
    .option("--merge", "copy rows the canonical DB lacks (conflicts → legacy_quarantine) before archiving")
    .addOption(
      new Option("--sidecar <path>", "the sidecar file (default: vox_training_telemetry.db beside the database)").argParser(notAnOption("--sidecar", "a path")),
    )
    .addOption(workDirOpt())
    .option("--break-lock", "take over a lock another run holds (its holder is shown)")
    .action(action("sidecar", handlers.sidecar));
  program
    .command("telemetry-check")
    .description("Stage 3: validate JSONL telemetry against contracts/telemetry/envelope.v1.yaml (exit 1 on violations)")
    .addArgument(pathArg("FILE...", "JSONL files"))
    .addOption(jsonOpt())
    .action(action("telemetry-check", handlers.telemetryCheck));
  program
    .command("news-check")
    .description("Stage 4: content digests, missing digests, legacy attempts; --apply copies legacy attempts into publication_attempts")
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .addOption(applyOpt())
    .action(action("news-check", handlers.newsCheck));
  program
    .command("drill")
    .description(
      "backup/restore drill: export, verify, restore into a scratch file, compare canonical hashes; record in the work dir (--apply: and the ledger)",
    )
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .addOption(applyOpt())
    .addOption(workDirOpt())
    .action(action("drill", handlers.drill));
  program
    .command("gate")
    .description("release gate for CI: ssot-drift and verify by default; --drill, --telemetry FILE…, --news opt in; one exit code")
    .addOption(dbOpt())
    .addOption(jsonOpt())
    .option("--no-drift", "skip ssot-drift (or VOX_GATE_DRIFT=false)")
    .option("--no-verify", "skip verify (or VOX_GATE_VERIFY=false)")
    .option("--drill", "run the backup/restore drill (or VOX_GATE_DRILL=true)")
    .option("--telemetry <files...>", "check these telemetry JSONL files")
    .option("--news", "run news-check (or VOX_GATE_NEWS=true)")
    .addOption(applyOpt())
    .addOption(workDirOpt())
    .action(action("gate", handlers.gate));
  program.command("ledger").description("list cutover_ledger").addOption(dbOpt()).addOption(jsonOpt()).action(action("ledger", handlers.ledger));
  program
    .command("sample")
    .description("write a realistic legacy VoxDB (plus sidecar and telemetry JSONL) for rehearsals; never overwrites")
    .addArgument(pathArg("OUT", "path of the new database file"))
    .option("--seed <n>", "PRNG seed (same seed, same data)", "1")
    .option("--rows <n>", "rows per table (roughly)", "50")
    .addOption(jsonOpt())
    .action(action("sample", handlers.sample));
  for (const cmd of program.commands) {
    const ex = EXAMPLES[cmd.name()];
    if (ex) cmd.addHelpText("after", `\nExample${ex.length > 1 ? "s" : ""}:\n${ex.map((l) => `  ${l}`).join("\n")}\n`);
  }
  return program;
}

// A closed pipe (`vox-cutover diagnose | head`) drops the rest of the output quietly, never with a
// stack trace, and the command runs to its end with its own exit code: an exit on the spot would cut a
// run short between its steps and tear down a worker thread inside SQLite (an integrity_check beside
// the run), which makes libsql's neon abort the process with a Rust panic (exit 134). A closed terminal
// (EIO: the window or ssh session went away, SIGHUP follows) is not a reason to crash either: the
// output has nowhere to go, but the stop at a safe point and the cleanup (scratch folders, partial
// files, the lock) must still run, so those writes are dropped.
let terminalGone = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") return; // the stream is destroyed: later writes to it are dropped
    if (e.code === "EIO") {
      terminalGone = true;
      return;
    }
    throw e;
  });
}
// Node 20 restores a terminal's mode at exit and aborts (a native assertion, exit 134) when the
// terminal is gone (nodejs/node#51519): once it is known gone, its descriptors are closed first, so
// that restore skips them and the exit code stays the command's own.
process.on("exit", () => {
  if (!terminalGone) return;
  for (const fd of [0, 1, 2]) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
});

async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const program = buildProgram();
  // `vox-cutover --db X` / `vox-cutover --rehearse`: options without a command open the wizard.
  if (optionsOpenWizard(argv)) argv = ["wizard", ...argv];
  if (argv.length === 0) {
    if (process.stdin.isTTY && process.stdout.isTTY) return runWizard({});
    process.stderr.write(program.helpInformation());
    process.stderr.write("\nusage error: no command given and this is not an interactive terminal (stdin and stdout must be TTYs for the wizard).\n");
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
      const named = program.commands.find((c) => c.name() === argv.find((a) => !a.startsWith("-")));
      (await import("./run.js")).emitUsageJson(argv, e.message, started, named?.options.some((o) => o.long === "--apply") ?? false);
      return EXIT.usage;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = uncaught(e);
  },
);
