// Reading a mediators CSV file the way `mediationctl mediator import` does
// (clients/cli/mediator_import.cc, request_fields.cc), so one file serves both:
// - RFC 4180-style CSV: values separated by commas, double quotes around a value that holds a
//   comma, a quote ("" inside quotes) or a line break; lines end in LF, CRLF or CR; a leading
//   UTF-8 byte order mark is dropped; empty lines are skipped.
// - The first row names the columns: Mediator fields by their path (contact.name,
//   accreditation.expires_on, experience.0.profession; any case, dashes or underscores). An
//   unknown column refuses the whole file.
// - Values by the field's type: numbers as written; true/false (yes/no, 1/0); enum values by
//   name, with or without the type's prefix, any case, dashes or underscores
//   (civil-mediation-council); dates as YYYY-MM-DD; times of day as HH:MM; a list takes several
//   values separated by ';' (england;wales). An empty value leaves the field unset.
// - Each row carries an idempotency key made from the header and the row (FNV-1a, 64 bits, as
//   the CLI makes it), so importing the same file again within a day registers nobody twice.
// Beyond the CLI, for a results table with a row for every line of the file: each row keeps the
// line(s) it came from, and a row repeating an earlier one exactly, or a row of empty values,
// is skipped here (the CLI would send the first again, or have it refused).
import { create, type DescField, type DescMessage, fromJsonString, ScalarType } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import { type Mediator, MediatorSchema } from "@gen/ppa/mediation/v1/mediator_pb";

export interface CsvRow {
  // The file's lines the row spans (a quoted value may hold line breaks), from 1.
  firstLine: number;
  lastLine: number;
  values: string[];
}

export interface CsvFile {
  rows: CsvRow[];
  // Lines with nothing on them.
  blankLines: number[];
}

// Parses CSV text as the CLI's ParseCsv does, keeping each row's lines. Throws on a quoted value
// that is not closed.
export function parseCsv(input: string): CsvFile {
  const text = input.startsWith("\uFEFF") ? input.slice(1) : input;
  const rows: CsvRow[] = [];
  const blankLines: number[] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let any = false;
  let line = 1;
  let firstLine = 1;
  let quoteLine = 1;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        ++i;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) ++line;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      quoted = true;
      quoteLine = line;
      any = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
      any = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") ++i;
      if (any || field !== "") {
        row.push(field);
        rows.push({ firstLine, lastLine: line, values: row });
      } else {
        blankLines.push(line);
      }
      row = [];
      field = "";
      any = false;
      ++line;
      firstLine = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw new Error(`a quoted value that begins on line ${quoteLine} is not closed`);
  if (any || field !== "") {
    row.push(field);
    rows.push({ firstLine, lastLine: line, values: row });
  }
  return { rows, blankLines };
}

// --- Setting a field from its path and text (request_fields.cc SetField) --------------------

type Fields = Record<string, unknown>;

function enumShortNames(values: ReadonlyArray<{ name: string }>): string[] {
  let common = values[0].name.slice(0, values[0].name.lastIndexOf("_") + 1);
  for (const v of values) {
    while (common && !v.name.startsWith(common)) {
      common = common.slice(0, common.slice(0, -1).lastIndexOf("_") + 1);
    }
  }
  return values.map((v) => v.name.slice(common.length));
}

function enumChoices(field: DescField): string {
  const e = field.enum!;
  const short = enumShortNames(e.values);
  return `one of: ${e.values
    .map((v, i) => [v.number, short[i]] as const)
    .filter(([number]) => number !== 0)
    .map(([, name]) => name.toLowerCase().replace(/_/g, "-"))
    .join(", ")}`;
}

function enumValue(field: DescField, raw: string): number | undefined {
  const e = field.enum!;
  if (/^[+-]?\d+$/.test(raw.trim())) {
    const number = Number(raw.trim());
    if (e.values.some((v) => v.number === number)) return number;
  }
  const want = raw.replace(/-/g, "_").toUpperCase();
  const short = enumShortNames(e.values);
  const index = e.values.findIndex((v, i) => v.name === want || short[i] === want);
  return index < 0 ? undefined : e.values[index].number;
}

const kInt = /^\s*[+-]?\d+\s*$/;

// The value of a scalar, enum or message field from its text; a string is a problem.
function valueFor(field: DescField, text: string): { value: unknown } | string {
  const bad = (what: string) => `${what}, not '${text}'`;
  if (field.enum) {
    const v = enumValue(field, text);
    return v === undefined ? bad(enumChoices(field)) : { value: v };
  }
  if (field.message) {
    const typeName = field.message.typeName;
    if (typeName === "ppa.mediation.v1.Date") {
      const match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text.trim());
      const date = match && { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
      const utc = date && new Date(Date.UTC(date.year, date.month - 1, date.day));
      if (!date || !utc || utc.getUTCMonth() !== date.month - 1 || utc.getUTCDate() !== date.day) {
        return bad("expected a date as YYYY-MM-DD");
      }
      return { value: create(field.message, date) };
    }
    if (typeName === "ppa.mediation.v1.TimeOfDay") {
      const match = /^(\d{1,2}):(\d{1,2})$/.exec(text.trim());
      if (!match || Number(match[1]) > 23 || Number(match[2]) > 59) return bad("expected a time of day as HH:MM");
      return { value: create(field.message, { hours: Number(match[1]), minutes: Number(match[2]) }) };
    }
    if (typeName === "google.protobuf.Timestamp") {
      const ms = Date.parse(text.trim());
      if (!/^\d{4}-\d{2}-\d{2}T/.test(text.trim()) || Number.isNaN(ms)) {
        return bad("expected a time as RFC 3339, for example 2027-03-01T09:30:00Z");
      }
      return { value: timestampFromDate(new Date(ms)) };
    }
    try {
      return { value: fromJsonString(field.message, text) };
    } catch (error) {
      return bad(`expected a JSON ${field.message.name} (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  switch (field.scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return { value: field.scalar === ScalarType.BYTES ? new TextEncoder().encode(text) : text };
    case ScalarType.BOOL: {
      const t = text.trim().toLowerCase();
      if (["true", "t", "yes", "y", "1"].includes(t)) return { value: true };
      if (["false", "f", "no", "n", "0"].includes(t)) return { value: false };
      return bad("expected true or false");
    }
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      const n = Number(text.trim());
      return text.trim() === "" || Number.isNaN(n) ? bad("expected a number") : { value: n };
    }
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64: {
      if (!kInt.test(text)) return bad("expected a whole number");
      const n = BigInt(text.trim());
      const unsigned = field.scalar === ScalarType.UINT64 || field.scalar === ScalarType.FIXED64;
      const fits = unsigned ? n >= 0n && n < 1n << 64n : n >= -(1n << 63n) && n < 1n << 63n;
      return fits ? { value: n } : bad("expected a whole number");
    }
    default: {
      if (!kInt.test(text)) return bad("expected a whole number");
      const n = Number(text.trim());
      const unsigned = field.scalar === ScalarType.UINT32 || field.scalar === ScalarType.FIXED32;
      const fits = unsigned ? n >= 0 && n <= 0xffffffff : n >= -0x80000000 && n <= 0x7fffffff;
      return fits ? { value: n } : bad("expected a whole number");
    }
  }
}

// Sets the field at `path` (below `schema`) in `message` from `text`; `text` undefined checks
// the path only. Returns the problem, or undefined.
function setField(message: Fields, schema: DescMessage, path: string, text: string | undefined): string | undefined {
  const segments = path.toLowerCase().replace(/-/g, "_").split(".").filter(Boolean);
  if (segments.length === 0) return "names no field";
  let m = message;
  let d = schema;
  for (let i = 0; i < segments.length; ++i) {
    const f = d.fields.find((x) => x.name === segments[i]);
    if (!f) return `${d.name} has no field ${segments[i]}`;
    const last = i + 1 === segments.length;
    const isMessage = f.fieldKind === "message" || (f.fieldKind === "list" && f.listKind === "message");
    if (!last && isMessage) {
      if (f.fieldKind === "message") {
        m[f.localName] ??= create(f.message);
        m = m[f.localName] as Fields;
        d = f.message;
        continue;
      }
      const list = m[f.localName] as Fields[];
      const index = /^\d+$/.test(segments[i + 1]) ? Number(segments[i + 1]) : -1;
      if (index < 0) return `${f.name} is a list; give an index, e.g. ${f.name}.0`;
      if (index > list.length) return `fill ${f.name}.${list.length} first`;
      if (index === list.length) list.push(create(f.message!) as unknown as Fields);
      m = list[index];
      d = f.message!;
      ++i;
      if (i + 1 === segments.length) return `name a field of ${d.name}`;
      continue;
    }
    if (!last) return `${f.name} has no fields`;
    if (f.fieldKind === "map") return `${f.name} is a map, which a column cannot fill`;
    if (text === undefined) {
      if (f.fieldKind === "scalar" && f.scalar === ScalarType.BOOL) m[f.localName] = true;
      return undefined;
    }
    if (f.fieldKind === "list") {
      const list = m[f.localName] as unknown[];
      for (const part of text.split(";")) {
        if (part.trim() === "") continue;
        const read = valueFor(f, part.trim());
        if (typeof read === "string") return read;
        list.push(read.value);
      }
      return undefined;
    }
    const read = valueFor(f, text);
    if (typeof read === "string") return read;
    m[f.localName] = read.value;
    return undefined;
  }
  return "names no field";
}

// --- The file's rows as mediators -----------------------------------------------------------

export interface ImportPlan {
  header: CsvRow;
  columns: string[];
  rows: PlannedRow[];
  blankLines: number[];
}

export interface PlannedRow {
  firstLine: number;
  lastLine: number;
  // The contact.name column's value.
  name: string;
  // What to register, with its idempotency key; or why the row is skipped.
  mediator?: Mediator;
  key?: string;
  skipped?: string;
}

// FNV-1a (64 bits) over the header and the row, as the CLI's RowKey: "import-<16 hex digits>".
export function rowKey(header: string[], values: string[]): string {
  const prime = 1099511628211n;
  const mask = (1n << 64n) - 1n;
  let hash = 1469598103934665603n;
  const encoder = new TextEncoder();
  const mix = (s: string) => {
    for (const byte of encoder.encode(s)) {
      hash ^= BigInt(byte);
      hash = (hash * prime) & mask;
    }
    hash ^= 0x1fn;
    hash = (hash * prime) & mask;
  };
  header.forEach(mix);
  values.forEach(mix);
  return `import-${hash.toString(16).padStart(16, "0")}`;
}

// Reads the file's text into the rows to register. Throws (with a message for people) when the
// whole file cannot be used: a quoted value not closed, no rows, or a column that names no
// Mediator field.
export function planImport(text: string): ImportPlan {
  const file = parseCsv(text);
  if (file.rows.length === 0) throw new Error("the file is empty; its first row names the columns");
  const [header, ...data] = file.rows;
  const columns = header.values.map((c) => c.trim());
  const probe = create(MediatorSchema) as unknown as Fields;
  for (const column of columns) {
    if (column === "") continue;
    const problem = setField(probe, MediatorSchema, column, undefined);
    if (problem) throw new Error(`line ${header.firstLine}, column '${column}': ${problem}`);
  }
  const seen = new Map<string, number>();
  const rows = data.map((row): PlannedRow => {
    const planned: PlannedRow = { firstLine: row.firstLine, lastLine: row.lastLine, name: "" };
    const nameAt = columns.indexOf("contact.name");
    if (nameAt >= 0) planned.name = (row.values[nameAt] ?? "").trim();
    if (row.values.every((v) => v.trim() === "")) return { ...planned, skipped: "no values on the line" };
    if (row.values.length !== columns.length) {
      return { ...planned, skipped: `has ${row.values.length} values for ${columns.length} columns` };
    }
    const same = seen.get(JSON.stringify(row.values));
    if (same !== undefined) return { ...planned, skipped: `repeats line ${same}` };
    seen.set(JSON.stringify(row.values), row.firstLine);
    const mediator = create(MediatorSchema);
    for (let c = 0; c < columns.length; ++c) {
      const value = row.values[c].trim();
      if (value === "") continue;
      if (columns[c] === "") return { ...planned, skipped: `a value in column ${c + 1}, which has no name` };
      const problem = setField(mediator as unknown as Fields, MediatorSchema, columns[c], value);
      if (problem) return { ...planned, skipped: `${columns[c]}: ${problem}` };
    }
    return { ...planned, mediator, key: rowKey(columns, row.values) };
  });
  return { header, columns, rows, blankLines: file.blankLines };
}
