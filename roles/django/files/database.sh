#!/bin/bash
# Back up and restore the application's database, for the django role's migrations.
#
#   database.sh dump FILE      dump the database into FILE and check that it reads back;
#                              with BACKUP_NOTE set, write it to FILE.json beside it;
#                              with BACKUPS_KEEP=N (1 or more), then remove all but the
#                              N newest dumps of FILE's directory, FILE among them, with
#                              their notes
#   database.sh restore FILE   make the database exactly what FILE holds
#   database.sh verify FILE    restore FILE into the scratch database DB_SCRATCH_NAME
#                              (owned by DB_USER too), print {"tables": N,
#                              "dump_tables": N, "migrations": N} (tables restored, tables
#                              the dump holds, rows of django_migrations), then empty the
#                              scratch database again; fails when the restore does
#
# The connection comes from the environment: DB_ENGINE (postgresql or mysql), DB_NAME,
# DB_USER, DB_HOST, DB_PORT; the password from DB_PASSWORD or, when that is unset, the
# first line of standard input (asked for on a terminal). The role gives it on standard
# input: Ansible writes a task's environment into the command it runs, which -vvv
# prints and the host's process list shows. It connects as the application's user, who
# owns the database, so no administrator's password is needed.
set -euo pipefail

die() { echo "database.sh: $*" >&2; exit 1; }

if [ -z "${DB_PASSWORD+set}" ]; then
  if [ -t 0 ]; then
    read -rs -p "database.sh: password of ${DB_USER:-the database user}: " DB_PASSWORD
    echo >&2
  else
    IFS= read -r DB_PASSWORD || [ -n "${DB_PASSWORD:-}" ] || die "no DB_PASSWORD and nothing on standard input"
  fi
fi

pg() { PGPASSWORD=$DB_PASSWORD "$@" -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER"; }

my() {
  # MYSQL_PWD keeps the password off the command line (and out of `ps`).
  MYSQL_PWD=$DB_PASSWORD "$@" --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER"
}

dump() {
  local file=$1 partial="$1.partial"
  umask 077
  case "$DB_ENGINE" in
    postgresql)
      pg pg_dump --format=custom --no-owner --file="$partial" "$DB_NAME"
      # A custom-format dump that pg_restore can list is complete and readable.
      pg_restore --list "$partial" >/dev/null || die "the dump does not read back"
      ;;
    mysql)
      # One consistent snapshot of InnoDB tables, with routines, events and triggers.
      my mysqldump --single-transaction --routines --events --triggers \
        --no-tablespaces "$DB_NAME" >"$partial"
      tail -n 1 "$partial" | grep -q '^-- Dump completed' || die "the dump is incomplete"
      ;;
    *) die "unknown DB_ENGINE '$DB_ENGINE'" ;;
  esac
  [ -s "$partial" ] || die "the dump is empty"
  mv "$partial" "$file"
  if [ -n "${BACKUP_NOTE:-}" ]; then printf '%s\n' "$BACKUP_NOTE" >"$file.json"; fi
  if [ -n "${BACKUPS_KEEP:-}" ]; then prune "$(dirname "$file")" "$BACKUPS_KEEP"; fi
}

# Newest first by modification time; the dump just written is the newest, so it stays.
prune() {
  local dir=$1 keep=$2 old
  [[ $keep =~ ^[1-9][0-9]*$ ]] || die "BACKUPS_KEEP must be a whole number of at least 1, not '$keep'"
  find "$dir" -maxdepth 1 -type f \( -name '*.dump' -o -name '*.sql' \) -printf '%T@ %p\n' \
    | sort -rn | tail -n +"$((keep + 1))" | cut -d ' ' -f 2- \
    | while IFS= read -r old; do rm -f -- "$old" "$old.json"; done
}

# SQL that drops every table, view and sequence the user owns in the database: what a
# failed deploy left (tables of migrations that did succeed) before a restore, or the
# scratch copy after a verification.
pg_drop_all() {
  cat <<'SQL'
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
                         CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                        WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                         n.nspname, c.relname) AS stmt
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
             AND pg_get_userbyid(c.relowner) = current_user
           -- Tables first: dropping them drops their identity and serial sequences.
           ORDER BY c.relkind = 'S'
  LOOP
    EXECUTE r.stmt;
  END LOOP;
END $$;
SQL
}

# MySQL cannot roll DDL back: the statements that drop every table and view of DB_NAME.
my_drop_all() {
  echo "SET FOREIGN_KEY_CHECKS=0;"
  my mysql -N -B -e "SELECT CONCAT('DROP ', IF(table_type = 'VIEW', 'VIEW', 'TABLE'), ' IF EXISTS \`', table_name, '\`;')
                     FROM information_schema.tables WHERE table_schema = '$DB_NAME'" "$DB_NAME"
  echo "SET FOREIGN_KEY_CHECKS=1;"
}

restore() {
  local file=$1
  [ -s "$file" ] || die "no backup at $file"
  case "$DB_ENGINE" in
    postgresql)
      # Drop what is there, then load the dump, all in one transaction: the database is
      # either the backup's or unchanged.
      {
        pg_drop_all
        pg_restore --no-owner --file=- "$file" | sed '/^CREATE SCHEMA public;$/d'
      } | pg psql -q -v ON_ERROR_STOP=1 --single-transaction -d "$DB_NAME" >/dev/null
      ;;
    mysql)
      { my_drop_all; cat "$file"; } | my mysql "$DB_NAME"
      ;;
    *) die "unknown DB_ENGINE '$DB_ENGINE'" ;;
  esac
}

# One number from a query on DB_NAME.
count() {
  case "$DB_ENGINE" in
    postgresql) pg psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB_NAME" -c "$1" ;;
    mysql) my mysql -N -B -e "$1" "$DB_NAME" ;;
  esac
}

verify() {
  local file=$1 dump_tables tables migrations
  [ -n "${DB_SCRATCH_NAME:-}" ] || die "DB_SCRATCH_NAME is not set"
  [ "$DB_SCRATCH_NAME" != "$DB_NAME" ] || die "the scratch database must not be the application's ($DB_NAME)"
  [ -s "$file" ] || die "no backup at $file"
  case "$DB_ENGINE" in
    postgresql) dump_tables=$(pg_restore --list "$file" | grep -cE '^[0-9]+; [0-9]+ [0-9]+ TABLE public ' || true) ;;
    mysql) dump_tables=$(grep -c '^CREATE TABLE `' "$file" || true) ;;
    *) die "unknown DB_ENGINE '$DB_ENGINE'" ;;
  esac
  DB_NAME=$DB_SCRATCH_NAME
  restore "$file" || die "the dump does not restore into the scratch database $DB_NAME"
  case "$DB_ENGINE" in
    postgresql)
      tables=$(count "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
      migrations=$(count "SELECT count(*) FROM django_migrations")
      pg_drop_all | pg psql -q -v ON_ERROR_STOP=1 -d "$DB_NAME" >/dev/null
      ;;
    mysql)
      tables=$(count "SELECT COUNT(*) FROM information_schema.tables
                      WHERE table_schema = '$DB_NAME' AND table_type = 'BASE TABLE'")
      migrations=$(count "SELECT COUNT(*) FROM django_migrations")
      my_drop_all | my mysql "$DB_NAME"
      ;;
  esac
  printf '{"tables": %d, "dump_tables": %d, "migrations": %d}\n' "$tables" "$dump_tables" "$migrations"
}

case "${1:-}" in
  dump) dump "${2:?database.sh dump FILE}" ;;
  restore) restore "${2:?database.sh restore FILE}" ;;
  verify) verify "${2:?database.sh verify FILE}" ;;
  *) die "usage: database.sh dump|restore|verify FILE" ;;
esac
