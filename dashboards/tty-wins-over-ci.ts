// ink draws only its final frame when the environment says CI (the CI or CONTINUOUS_INTEGRATION
// variable), which leaves a real terminal blank until exit: CI jobs, and tmux servers started
// from them, pass CI=true to everything. The dashboard only draws when stdout is a TTY, so a TTY
// wins. Imported by run-dashboard before ink, because ink reads the variable once, at load.
if (process.stdout.isTTY) {
  for (const name of ['CI', 'CONTINUOUS_INTEGRATION']) {
    if (name in process.env) process.env[name] = 'false';
  }
}

export {};
