/**
 * Real JupyterLab servers for the UI tests: alice's and bob's, neighbours on
 * one SQLite store, each with its own token, root, runtime and data dirs.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** What the tests need to reach one server. */
export interface IServerInfo {
  username: string;
  url: string;
  token: string;
  pid: number;
  log: string;
}

/** The standalone directory every test server is configured with. */
export const DIRECTORY = {
  users: ["alice", "bob", "carol", "dave"],
  groups: { "class-2026": ["bob", "carol"], staff: ["alice", "dave"] },
};

/** The user settings of the tests: a short poll, and no news or update checks. */
const SETTINGS: { [file: string]: object } = {
  "jupyter-share/plugin.jupyterlab-settings": { pollInterval: 5 },
  "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
    checkForUpdates: false,
    fetchNews: "false",
  },
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A fresh working directory with the shared user settings and directory config. */
export function makeWorkdir(): string {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyter-share-ui-"));
  for (const [file, content] of Object.entries(SETTINGS)) {
    const target = path.join(workdir, "settings", file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, JSON.stringify(content));
  }
  fs.writeFileSync(
    path.join(workdir, "share_config.json"),
    JSON.stringify({ ShareApp: DIRECTORY }),
  );
  return workdir;
}

/** Start `jupyter lab` as a user on the store; wait with `waitReady`. */
export async function startLab(
  username: string,
  workdir: string,
  options: { exposeApp?: boolean } = {},
): Promise<{ info: IServerInfo; process: ChildProcess }> {
  const python = process.env.JUPYTER_SHARE_PYTHON || "python3";
  const port = await freePort();
  const token = `token-of-${username}-${Math.random().toString(36).slice(2)}`;
  const root = path.join(workdir, username);
  fs.mkdirSync(root, { recursive: true });
  const log = path.join(workdir, `${username}.log`);
  const args = [
    "-m",
    "jupyterlab",
    "--no-browser",
    "--allow-root",
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.port=${port}`,
    "--ServerApp.port_retries=0",
    `--ServerApp.root_dir=${root}`,
    `--IdentityProvider.token=${token}`,
    `--ShareApp.username=${username}`,
    `--ShareApp.session_name=${username}-workstation`,
    `--ShareApp.db_url=sqlite:///${path.join(workdir, "share.db")}`,
    `--LabApp.user_settings_dir=${path.join(workdir, "settings")}`,
    `--LabApp.workspaces_dir=${path.join(root, ".workspaces")}`,
    `--config=${path.join(workdir, "share_config.json")}`,
    // Environments from images (use-image.spec.ts) install offline, from folders that the
    // test fills: the image's wheels, and ipykernel's.
    "--ShareApp.environment_no_index=True",
    `--ShareApp.environment_find_links=${path.join(workdir, "wheels")}`,
    `--ShareApp.environment_find_links=${path.join(workdir, "kernel-wheels")}`,
  ];
  if (options.exposeApp) {
    args.push("--LabApp.expose_app_in_browser=True");
  }
  const env = { ...process.env };
  // Neighbours share only the store.
  env.JUPYTER_RUNTIME_DIR = path.join(root, ".runtime");
  env.JUPYTER_DATA_DIR = path.join(root, ".data");
  delete env.JUPYTERHUB_API_TOKEN;
  // Nothing of this machine's pip configuration (its find-links, indexes, constraints).
  for (const name of Object.keys(env)) {
    if (name.startsWith("PIP_")) {
      delete env[name];
    }
  }
  env.PIP_CONFIG_FILE = "/dev/null";
  const out = fs.openSync(log, "w");
  const child = spawn(python, args, {
    cwd: root,
    env,
    stdio: ["ignore", out, out],
    detached: false,
  });
  fs.closeSync(out);
  return {
    info: {
      username,
      url: `http://127.0.0.1:${port}/`,
      token,
      pid: child.pid!,
      log,
    },
    process: child,
  };
}

/** Wait until the server answers the share API as its user. */
export async function waitReady(
  info: IServerInfo,
  child: ChildProcess,
  timeoutMs = 90000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `the server of ${info.username} exited:\n${fs.readFileSync(info.log, "utf-8")}`,
      );
    }
    try {
      const response = await fetch(`${info.url}jupyter-share/api/v1/me`, {
        headers: { Authorization: `token ${info.token}` },
      });
      if (response.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `the server of ${info.username} did not start:\n${fs.readFileSync(info.log, "utf-8")}`,
  );
}

/** Stop a server: SIGTERM, then SIGKILL after a while. */
export async function stopLab(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => resolve()),
  );
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
  await exited;
  clearTimeout(timer);
}
