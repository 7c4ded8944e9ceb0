// The users of the story, in SQLite: created and seeded at start (the only write), then opened
// read-only for the request path.
import Database from 'better-sqlite3';

export interface User {
  id: number;
  name: string;
  email: string;
  city: string;
}

const SEED: User[] = [
  { id: 1, name: 'Ada Lovelace', email: 'ada@example.test', city: 'London' },
  { id: 7, name: 'Grace Hopper', email: 'grace@example.test', city: 'Arlington' },
  { id: 42, name: 'Douglas Adams', email: 'douglas@example.test', city: 'Cambridge' },
  { id: 1969, name: 'Vint Cerf', email: 'vint@example.test', city: 'McLean' },
];

export function seedDatabase(path: string): void {
  const db = new Database(path);
  try {
    db.exec(
      'CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, city TEXT NOT NULL)',
    );
    const insert = db.prepare(
      'INSERT OR REPLACE INTO users (id, name, email, city) VALUES (@id, @name, @email, @city)',
    );
    db.transaction((users: User[]) => {
      for (const u of users) insert.run(u);
    })(SEED);
  } finally {
    db.close();
  }
}

export interface UserRepository {
  find(id: number): User | undefined;
  close(): void;
}

export function openUsers(path: string): UserRepository {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const byId = db.prepare('SELECT id, name, email, city FROM users WHERE id = ?');
  return {
    find: (id) => byId.get(id) as User | undefined,
    close: () => db.close(),
  };
}
