/**
 * Entry of the interactive wizard. Never mounts Ink without a TTY; honours NO_COLOR (Ink does not,
 * so chalk is switched off before Ink loads); handles Ctrl-C itself (exit 130, never 0).
 */
export async function startWizard(opts: { rehearse?: boolean; db?: string }): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write("usage error: the wizard needs an interactive terminal (stdin and stdout must be TTYs). Use the commands instead: vox-cutover --help\n");
    return 2;
  }
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") process.env.FORCE_COLOR = "0";
  // A first frame at once, while Ink (and its WASM layout engine) loads; Ink's first render replaces it.
  process.stdout.write("vox-cutover — starting the wizard…");
  const [{ render }, React, { App }, { workerClient }] = await Promise.all([import("ink"), import("react"), import("./App.js"), import("./client.js")]);
  process.stdout.write("\r\x1b[2K");
  const client = workerClient();
  let code = 0;
  let note = "";
  const instance = render(
    React.createElement(App, {
      client,
      db: opts.db,
      rehearse: opts.rehearse,
      onExit: (c: number, n: string) => {
        code = c;
        note = n;
      },
    }),
    { exitOnCtrlC: false },
  );
  const onSignal = (sig: NodeJS.Signals) => {
    client.cancel();
    code = sig === "SIGTERM" ? 143 : 130;
    note = "Interrupted. State kept; the next start offers Resume / Roll back.";
    setTimeout(() => instance.unmount(), 3000).unref();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  await instance.waitUntilExit();
  client.close();
  if (note) process.stderr.write(note + "\n");
  return code;
}
