// Bundles the web console (src/main.ts, src/console.css) with esbuild into <out>/assets under
// content-hashed names (cached for a year by the server) and writes <out>/index.html naming
// them. No inline script or style: the server's content security policy forbids both.
//
// Usage: node scripts/build-console.mjs <generated clients dir> <out dir>
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const [gen, out] = process.argv.slice(2);
if (!gen || !out) {
  console.error("usage: build-console.mjs <generated clients dir> <out dir>");
  process.exit(2);
}
const web = join(dirname(fileURLToPath(import.meta.url)), "..");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
const result = await build({
  entryPoints: { app: join(web, "src/main.ts"), style: join(web, "src/console.css") },
  bundle: true,
  format: "esm",
  target: ["chrome109", "firefox115", "safari15"],
  minify: true,
  sourcemap: "linked",
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  outdir: join(out, "assets"),
  alias: { "@gen": gen },
  nodePaths: [join(web, "node_modules")],
  loader: { ".svg": "file", ".png": "file", ".woff": "file", ".woff2": "file" },
  // The design system's style sheet names its images and fonts by absolute path: they are copied
  // to the same place below.
  external: ["https://*", "/assets/*"],
  metafile: true,
  logLevel: "error",  // The design system's style sheet has IE hacks esbuild warns about.
});

cpSync(join(web, "node_modules/nhsuk-frontend/dist/nhsuk/assets"), join(out, "assets"), {
  recursive: true,
});

let script = "";
let style = "";
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (!info.entryPoint) continue;
  const path = "/assets/" + basename(file);
  if (file.endsWith(".js")) script = path;
  if (file.endsWith(".css")) style = path;
}
if (!script || !style) throw new Error("the bundle has no script or no style sheet");
writeFileSync(
  join(out, "index.html"),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Assisted mediation</title>
<link rel="stylesheet" href="${style}">
<script type="module" src="${script}"></script>
</head>
<body class="js-enabled">
<div id="app"></div>
</body>
</html>
`,
);
console.log(`build-console: ${relative(process.cwd(), out)}: ${script}, ${style}`);
