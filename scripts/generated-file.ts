import fs from 'node:fs';
import path from 'node:path';

/** Writes a generated, committed file only when its text changed, and says which it was. */
export function writeGenerated(file: string, text: string): void {
  const changed = !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text;
  if (changed) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  console.log(`${path.relative(process.cwd(), file)} ${changed ? 'written' : 'unchanged'}`);
}
