/**
 * Start alice's and bob's JupyterLab on one fresh store before the tests and
 * stop them after. The tests find them in JUPYTER_SHARE_UI_SERVERS.
 */
import * as fs from "fs";

import { makeWorkdir, startLab, stopLab, waitReady } from "./servers";

export default async function globalSetup(): Promise<() => Promise<void>> {
  const workdir = makeWorkdir();
  const started = await Promise.all(
    ["alice", "bob"].map((user) => startLab(user, workdir)),
  );
  try {
    await Promise.all(started.map((s) => waitReady(s.info, s.process)));
  } catch (error) {
    await Promise.all(started.map((s) => stopLab(s.process)));
    throw error;
  }
  process.env.JUPYTER_SHARE_UI_WORKDIR = workdir;
  process.env.JUPYTER_SHARE_UI_SERVERS = JSON.stringify(
    Object.fromEntries(started.map((s) => [s.info.username, s.info])),
  );
  return async () => {
    await Promise.all(started.map((s) => stopLab(s.process)));
    if (!process.env.JUPYTER_SHARE_UI_KEEP) {
      fs.rmSync(workdir, { recursive: true, force: true });
    }
  };
}
