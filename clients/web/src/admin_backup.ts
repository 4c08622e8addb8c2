// Online backup (ADMIN): BackupDatabase copies the live database into the server's backup
// directory while the service keeps running; the page shows where the file is and how to check
// it.
import { AdminService, type BackupDatabaseResponse } from "@gen/ppa/mediation/v1/admin_pb";

import { count, kAdminOnly, plural, replacePage } from "./admin_parts";
import { client } from "./api";
import { type PageContext, type Route, when } from "./app";
import { backLink, h, link, summaryList, warningCallout } from "./dom";
import { actionForm, textInput, valueOf } from "./forms";

// 1536000 -> "1.5 MB (1,536,000 bytes)".
export function size(bytes: bigint): string {
  const n = Number(bytes);
  const units: Array<[number, string]> = [
    [1e9, "GB"],
    [1e6, "MB"],
    [1e3, "kB"],
  ];
  for (const [scale, unit] of units) {
    if (n >= scale) return `${(n / scale).toFixed(1)} ${unit} (${plural(bytes, "byte", "bytes")})`;
  }
  return plural(bytes, "byte", "bytes");
}

function intro(): HTMLElement[] {
  return [
    h(
      "p",
      { class: "nhsuk-body" },
      "A backup copies the whole database into a new file in the server's backup folder while the service keeps running. Nobody is held up while it is made.",
    ),
    h(
      "p",
      { class: "nhsuk-body" },
      "It holds every record, the audit trail and the case keys. Session notes stay encrypted in it.",
    ),
    warningCallout(
      "Back up the key files separately",
      "A backup does not hold the master key file or the admin token file. Without the master key the notes in a backup cannot be read and the server will not start on it. Keep them apart from the backups.",
    ),
  ];
}

function backupForm(context: PageContext): HTMLElement {
  return actionForm(
    "backup-form",
    [
      textInput("label", "A few words saying why (optional)", {
        classes: "nhsuk-input--width-20",
        hint: "Added to the file name, for example before-upgrade. Letters and digits are kept and anything else becomes a hyphen. At most 64 characters.",
      }),
    ],
    "Back up now",
    async (form) => {
      const result = await client(AdminService).backupDatabase({ label: valueOf(form, "label") });
      replacePage(donePage(context, result));
    },
  );
}

// The backup made: drawn in place of the form, so a reload offers the form again rather than
// showing this result as if it were new.
function donePage(context: PageContext, b: BackupDatabaseResponse): HTMLElement {
  return context.frame(
    "Backup made",
    backLink("/app/admin", "Administration"),
    h("h1", {}, "Backup made"),
    h("p", { class: "nhsuk-body-l", id: "backup-made" }, "The database is copied to a new file on the server."),
    summaryList([
      ["File name", b.fileName],
      ["Where it is on the server", b.path],
      ["Size", size(b.sizeBytes)],
      ["Database pages copied", count(b.pageCount)],
      ["Database schema version", String(b.schemaVersion)],
      ["Holds every change made before", when(b.snapshotAt)],
      ["SHA-256 checksum", b.sha256],
    ]),
    h(
      "p",
      { class: "nhsuk-body" },
      "To check a copy of the file, compare this checksum with what sha256sum gives for the copy. A server restored from it must run schema version ",
      String(b.schemaVersion),
      " or newer. To restore it, follow the README's instructions for deploy/restore-backup.sh.",
    ),
    h("p", { class: "nhsuk-body" }, link("/app/admin/backup", "Make another backup", { id: "another-backup" })),
    h("p", { class: "nhsuk-body" }, link("/app/admin", "Back to administration")),
  );
}

async function backupPage(context: PageContext): Promise<HTMLElement> {
  return context.frame(
    "Back up the database",
    backLink("/app/admin", "Administration"),
    h("h1", {}, "Back up the database"),
    ...intro(),
    backupForm(context),
  );
}

export const backupRoutes: Route[] = [
  { pattern: /^\/app\/admin\/backup$/, roles: kAdminOnly, page: backupPage },
];
