/**
 * Which command lines can only mean the wizard with its plain options (main.ts starts it straight from
 * them: cli/wizard-entry.ts). No imports: main.ts reads it before it loads anything else.
 */
/** Every command's `--db` and the wizard's `--rehearse`: their names here, their help in program.ts (which registers them by these). */
export const DB_FLAG = "--db";
export const REHEARSE_FLAG = "--rehearse";

/** Options without a command (`vox-cutover --db X`, `--rehearse`, either spelling): the wizard's (program.ts reads them as `wizard …`). */
export function optionsOpenWizard(argv: string[]): boolean {
  return argv.length > 0 && [DB_FLAG, REHEARSE_FLAG].includes(argv[0]!.split("=")[0]!);
}

export interface WizardOptions {
  db?: string;
  rehearse?: boolean;
}

/**
 * The wizard's options when `argv` can only mean the wizard and holds nothing but its plain options in
 * their plain spelling, in a terminal: nothing, or `wizard`, or neither, then `--db PATH` (a PATH not
 * starting with `-`) and `--rehearse`, each at most once. Anything else — another command, `--db=PATH`,
 * `--help`, `--target-schema`, an option twice, no terminal — is null: commander reads it (program.ts).
 */
export function plainWizardArgs(argv: string[], tty = Boolean(process.stdin.isTTY && process.stdout.isTTY)): WizardOptions | null {
  if (!tty) return null;
  const rest = argv[0] === "wizard" ? argv.slice(1) : argv;
  const o: WizardOptions = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === REHEARSE_FLAG && o.rehearse === undefined) o.rehearse = true;
    else if (a === DB_FLAG && o.db === undefined && rest[i + 1] !== undefined && !rest[i + 1]!.startsWith("-")) o.db = rest[++i]!;
    else return null;
  }
  return o;
}
