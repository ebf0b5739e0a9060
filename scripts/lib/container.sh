# A real systemd for integration tests: Debian 12 booted with systemd-nspawn (sourced after
# netns.sh, whose log/fail/wait_for it uses).
#
#   ct_rootfs PACKAGE...  CT_DIR: a minbase bookworm with PACKAGEs, debootstrapped once per
#                         package list and mirror into a cache, never written to afterwards
#   ct_boot               boot CT_DIR (-b, private network, unified cgroups) in the background
#                         with a throwaway writable layer, wait until systemd is up; CT_LEADER is
#                         the host PID of its init
#   ct_exec CMD...        run CMD in the container (all its namespaces, a clean environment)
#   ct_cleanup            orderly poweroff (bounded), then kill; remove its cgroups and any copy
#
# The tree lives in $WGPUNCH_ROOTFS_CACHE when it is set (scripts/test points it at a temp dir
# of its own, so the plain and the sanitizer pass share one debootstrap and the run leaves
# nothing on the machine), else in the test's own temp dir, removed with it. It is named after the
# SHA-256 of the suite, the mirror, the sorted package list and debootstrap's version, so a run
# with another list never reuses it; one older than WGPUNCH_ROOTFS_MAX_DAYS (default 7) is made
# again. A lock per tree makes concurrent runs wait for one debootstrap. The container boots it
# with --volatile=overlay: every change (dpkg -i, the journal) goes to a tmpfs and is gone at
# poweroff, so runs share the tree and copy nothing; a kernel without overlayfs gets a copy.
# nspawn runs in a cgroup of its own (ct-<pid> below the root of each hierarchy it uses), so its
# payload/supervisor cgroups never meet another run's, and ct_cleanup removes them.

CT_SUITE=bookworm
CT_CACHE=${WGPUNCH_ROOTFS_CACHE:-} # where trees are kept (empty: $NL_TMP/rootfs)
CT_DIR=""       # the cached rootfs (read-only to us)
CT_COPY=""      # a writable copy of it, without overlayfs
CT_NSPAWN=""    # PID of systemd-nspawn
CT_LEADER=""    # host PID of the container's systemd
CT_CGROUP=""    # our cgroup name below each hierarchy's root
CT_LOG=""       # nspawn's output (the container's console)
CT_MACHINE=""   # the container's name, unique per run
CT_IMAGE_LOCK="" # the lock nspawn takes on the tree (shared by concurrent runs)

# ct_mirror: the first Debian mirror in the apt sources that serves $CT_SUITE (deb822 .sources
# files or one-line .list entries), as apt on this machine uses it.
ct_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$CT_SUITE" '
      function flush() { if (!found && uris != "" && (" " suites " ") ~ (" " suite " ")) { print uris; found = 1 } uris = ""; suites = "" }
      /^[ \t]*$/ { flush(); next }
      /^URIs:/ { uris = $2 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      END { flush() }' "$f"
  done
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    awk -v suite="$CT_SUITE" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while (i <= NF && $i !~ /\]$/) i++; if ($2 ~ /^\[/) i++; if ($(i + 1) == suite) print $i }'
}

# ct_rootfs PACKAGE...: CT_DIR becomes a minbase $CT_SUITE with PACKAGEs, from the cache.
ct_rootfs() {
  local mirror list key tree lock t max=${WGPUNCH_ROOTFS_MAX_DAYS:-7}
  [[ -n $CT_CACHE ]] || CT_CACHE=$NL_TMP/rootfs
  mirror=$(ct_mirror | head -n 1)
  [[ -n $mirror ]] || fail "no Debian mirror for $CT_SUITE in /etc/apt/sources.list(.d)"
  list=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
  key=$(printf '%s\n' "$CT_SUITE" "$mirror" "$list" "$(dpkg-query -W -f='${Version}' debootstrap)" |
    sha256sum | cut -c1-16)
  tree=$CT_CACHE/rootfs-$CT_SUITE-$key
  mkdir -p "$CT_CACHE"
  chmod 0700 "$CT_CACHE"
  exec {lock}>"$tree.lock"
  flock -w 900 "$lock" || fail "another run held $tree.lock for 15 min"
  if [[ -f $tree.done && -z $(find "$tree.done" -mtime +"$max") ]]; then
    log "rootfs: cached $tree ($list)"
  else
    t=$SECONDS
    log "rootfs: debootstrap --variant=minbase $CT_SUITE from $mirror with $list"
    rm -f "$tree.done"
    rm -rf --one-file-system "$tree" "$tree.new"
    local keyring=()
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
      keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
    timeout 900 debootstrap --variant=minbase "${keyring[@]}" --include="$list" \
      "$CT_SUITE" "$tree.new" "$mirror" >"$NL_TMP/debootstrap.log" 2>&1 ||
      fail "debootstrap failed: $(tail -n 5 "$NL_TMP/debootstrap.log")"
    # Nothing of this machine's in the tree: each container names itself.
    rm -f "$tree.new/etc/hostname"
    : >"$tree.new/etc/machine-id"
    mv "$tree.new" "$tree"
    touch "$tree.done"
    # Trees of other lists or mirrors, once too old to be used.
    find "$CT_CACHE" -maxdepth 1 -name "rootfs-*.done" -mtime +"$max" | while read -r f; do
      rm -f "$f" && rm -rf --one-file-system "${f%.done}"
    done
    log "rootfs: debootstrapped in $((SECONDS - t)) s ($(du -sm "$tree" | cut -f1) MiB)"
  fi
  exec {lock}>&-
  CT_DIR=$tree
}

# ct_cgroup_roots: the mount points of the hierarchies nspawn puts a container in: cgroup2
# (unified) and the named systemd v1 hierarchy of a hybrid host.
ct_cgroup_roots() {
  findmnt -rn -t cgroup2 -o TARGET
  findmnt -rn -t cgroup -o TARGET,OPTIONS | awk '$2 ~ /(^|,)name=systemd(,|$)/ {print $1}'
}

# ct_boot: boot CT_DIR; sets CT_NSPAWN, CT_LEADER; waits (bounded) for systemd.
ct_boot() {
  local root i state dir=$CT_DIR volatile=(--volatile=overlay)
  CT_CGROUP=ct-$$
  CT_MACHINE=wgpunch-test-$$
  CT_LOG=$NL_TMP/nspawn.log
  CT_IMAGE_LOCK=/run/systemd/nspawn/locks/inode-$(stat -c '%d:%i' "$CT_DIR")
  if ! grep -qw overlay /proc/filesystems; then
    CT_COPY=$(mktemp -d /var/tmp/wgp-rootfs.XXXXXX)
    cp -a "$CT_DIR/." "$CT_COPY" || fail "cannot copy $CT_DIR"
    dir=$CT_COPY volatile=()
    log "note: no overlayfs in this kernel: the container runs on a copy of the rootfs"
  fi
  local procs=()
  while read -r root; do
    mkdir -p "$root/$CT_CGROUP" || fail "cannot create cgroup $root/$CT_CGROUP"
    procs+=("$root/$CT_CGROUP/cgroup.procs")
  done < <(ct_cgroup_roots)
  ((${#procs[@]})) || fail "no cgroup2 or name=systemd hierarchy mounted"
  # Without --system-call-filter=bpf and a unified hierarchy, the container's systemd cannot
  # load its device BPF programs and silently ignores DevicePolicy=.
  # The shell moves itself into our cgroups, then becomes nspawn.
  # shellcheck disable=SC2016  # $$, $1 and "$@" are the inner shell's
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 bash -c \
    'for ((i = $1; i > 0; i--)); do shift; echo $$ >"$1" || exit 1; done; shift; exec "$@"' \
    ct-boot "${#procs[@]}" "${procs[@]}" \
    systemd-nspawn -D "$dir" "${volatile[@]}" -b --machine="$CT_MACHINE" --register=no --keep-unit \
    --private-network --system-call-filter=bpf --console=read-only >"$CT_LOG" 2>&1 &
  CT_NSPAWN=$!
  NL_PIDS+=("$CT_NSPAWN")
  for ((i = 0; i < 300; i++)); do
    CT_LEADER=$(pgrep -P "$CT_NSPAWN" -x systemd | head -n 1 || true)
    [[ -n $CT_LEADER ]] && break
    kill -0 "$CT_NSPAWN" 2>/dev/null || fail "systemd-nspawn exited: $(tail -n 20 "$CT_LOG")"
    sleep 0.1
  done
  [[ -n $CT_LEADER ]] || fail "systemd-nspawn started no systemd within 30 s: $(tail -n 20 "$CT_LOG")"
  # Until its bus answers, systemctl cannot even ask.
  for ((i = 0; i < 600; i++)); do
    state=$(timeout 10 nsenter -t "$CT_LEADER" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      systemctl is-system-running 2>&1) || true
    [[ $state == running || $state == degraded || $state == maintenance || $state == stopping ]] && break
    kill -0 "$CT_NSPAWN" 2>/dev/null || fail "systemd-nspawn exited: $(tail -n 20 "$CT_LOG")"
    sleep 0.1
  done
  [[ $state == running || $state == degraded ]] ||
    fail "the container's systemd is '$state' after boot: $(tail -n 20 "$CT_LOG")"
  if [[ $state == degraded ]]; then
    log "note: the container is degraded: $(ct_exec systemctl --failed --plain --no-legend | awk '{print $1}' | paste -sd' ' -)"
  fi
}

# ct_exec CMD...: CMD inside the container, as its root, with a clean environment.
ct_exec() {
  nsenter -t "$CT_LEADER" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 "$@"
}

# ct_cleanup: power the container off (20 s), else kill it; remove its cgroups, what nspawn left
# in /run and the copy of the rootfs if one was made (never the cached tree).
ct_cleanup() {
  local i root
  if [[ -n $CT_NSPAWN ]] && kill -0 "$CT_NSPAWN" 2>/dev/null; then
    [[ -n $CT_LEADER ]] && timeout 10 nsenter -t "$CT_LEADER" -a systemctl poweroff --no-block \
      >/dev/null 2>&1
    for ((i = 0; i < 200; i++)); do
      kill -0 "$CT_NSPAWN" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$CT_NSPAWN" 2>/dev/null; then
      log "the container did not power off within 20 s: killing it"
      [[ -n $CT_LEADER ]] && kill -KILL "$CT_LEADER" 2>/dev/null
      kill -KILL "$CT_NSPAWN" 2>/dev/null
    fi
    wait "$CT_NSPAWN" 2>/dev/null
  fi
  if [[ -n $CT_CGROUP ]]; then
    # Depth first, once the killed processes are gone (bounded); a cgroup that still holds a
    # process stays, and is reported.
    for root in /sys/fs/cgroup /sys/fs/cgroup/*; do
      [[ -d $root/$CT_CGROUP ]] || continue
      for ((i = 0; i < 100; i++)); do
        [[ -z $(find "$root/$CT_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null) ]] && break
        sleep 0.1
      done
      find "$root/$CT_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
      [[ ! -d $root/$CT_CGROUP ]] || log "warning: cgroup $root/$CT_CGROUP could not be removed"
    done
  fi
  # What nspawn keeps in the host's /run for a machine (left behind when it is killed); the
  # image lock only if no other run holds it.
  [[ -n $CT_MACHINE ]] && rm -rf "/run/systemd/nspawn/propagate/$CT_MACHINE"
  if [[ -n $CT_IMAGE_LOCK && -e $CT_IMAGE_LOCK ]] && flock -n -x "$CT_IMAGE_LOCK" true; then
    rm -f "$CT_IMAGE_LOCK"
  fi
  [[ -n $CT_COPY && -d $CT_COPY ]] && rm -rf --one-file-system "$CT_COPY"
  CT_NSPAWN="" CT_LEADER="" CT_CGROUP="" CT_COPY="" CT_MACHINE="" CT_IMAGE_LOCK=""
}
