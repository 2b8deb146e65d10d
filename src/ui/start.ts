/** Entry of the interactive wizard (the Ink app lives beside this file). */
export async function startWizard(_opts: { rehearse?: boolean; db?: string }): Promise<number> {
  process.stderr.write("The interactive wizard is not built yet. Run `vox-cutover --help` for the commands (diagnose, migrate, sample, …).\n");
  return 2;
}
