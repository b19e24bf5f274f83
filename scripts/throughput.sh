#!/usr/bin/env bash
# Throughput of `kamei deid` against DCMTK's dcmodify on synthetic archives.
#
#   scripts/throughput.sh                     # N=3000 files of 256² and of 512², 3 rounds
#   N=1000 SIZES="512" ROUNDS=5 scripts/throughput.sh
#
# For each size it generates an archive with `cargo run --release --example synth` (once; kept
# in $WORK between runs), then for ROUNDS rounds times, in an order that rotates every round:
#
#   kamei         kamei deid ARCHIVE -o OUT (a fresh OUT), all cores
#   cp+dcmodify   cp -r ARCHIVE COPY, then dcmodify -nb with 5 -ea edits over COPY through
#                 xargs -P $(nproc): the archive itself must not be modified, so this is what
#                 a dcmodify-based pipeline has to do to get a de-identified copy
#   dcmodify      dcmodify alone, on a copy made before the clock starts
#   dcmodify-each the same, one dcmodify process per file (what `find -exec dcmodify {} \;`
#                 in an export script does)
#   cp            cp -r ARCHIVE COPY alone: the floor for any tool that writes a copy (it does
#                 no parsing, no hashing, and copies inside the kernel)
#
# Every timing ends with `sync`, so written data is on disk, not only in the page cache, and
# starts after a `sync`. Each timing also records the CPU seconds (user + system) the tool and
# its children used: on a disk-bound machine the wall time of every tool approaches `cp`'s,
# and CPU time shows what each costs. WORK=/dev/shm/... measures in memory (tmpfs), without
# the disk.
#
# Nothing is deleted between timings: every timing writes into a folder of its own, and all
# outputs are deleted only at the end. After a mass delete ext4 spends its time allocating
# inodes (find_inode_bit -> recently_deleted() in perf: it skips inodes freed in the last 60 s,
# or 300 s while their table block is dirty), which made one and the same kamei run take 0.9 s
# or 4 s of CPU depending on what had just been deleted; tools that create files (kamei,
# cp + dcmodify) pay it, dcmodify alone (which rewrites in place with O_TRUNC) does not.
# Outputs left by an earlier run of this script are deleted at the start, followed by a pause
# of RECENTCY seconds (default 65) so that state is gone before the first timing. The order of
# the tools rotates every round. The archive is read from the page cache after its first use
# (the same for all tools); DROP_CACHES=1 (root) drops caches before every timing instead.
#
# Needs free disk space for 5 × ROUNDS copies of each archive (about 30 GB with the defaults)
# and dcmodify (DCMTK) on PATH. The machine is not reserved: the load average is printed at the
# start and end; compare runs only at a similar load. Not run by CI.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

N=${N:-3000}
SIZES=${SIZES:-"256 512"}
ROUNDS=${ROUNDS:-3}
JOBS=${JOBS:-$(nproc)}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=${WORK:-$TARGET/throughput}
DROP_CACHES=${DROP_CACHES:-0}
RECENTCY=${RECENTCY:-65}

command -v dcmodify >/dev/null || { echo "throughput.sh: dcmodify (DCMTK) is not installed" >&2; exit 2; }
mkdir -p "$WORK"
if [ -d "$WORK/scratch" ]; then
    echo "throughput.sh: deleting the outputs of an earlier run, then waiting ${RECENTCY}s (see the header)" >&2
    rm -rf "$WORK/scratch"
    sync
    sleep "$RECENTCY"
fi

cargo build --release --quiet
KAMEI="$TARGET/release/kamei"
KEY="$WORK/throughput.key"
[ -f "$KEY" ] || "$KAMEI" keygen -o "$KEY" 2>/dev/null

# Five erase edits, the shape of a minimal dcmodify de-identification.
EDITS=(-ea "(0010,0010)" -ea "(0010,0020)" -ea "(0010,0030)" -ea "(0008,0080)" -ea "(0008,0090)")

now() { date +%s.%N; }
settle() {
    sync
    if [ "$DROP_CACHES" = 1 ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

# run_tool TOOL ARCHIVE OUT: the timed work of TOOL (tool output goes to stderr).
run_tool() {
    local tool=$1 archive=$2 out=$3
    case $tool in
        kamei)
            "$KAMEI" deid "$archive" -o "$out" --key "$KEY" -j "$JOBS" -q
            ;;
        cp+dcmodify)
            cp -r "$archive" "$out"
            find "$out" -type f -print0 | xargs -0 -P "$JOBS" -n 64 dcmodify -q -nb "${EDITS[@]}"
            ;;
        dcmodify)
            find "$out" -type f -print0 | xargs -0 -P "$JOBS" -n 64 dcmodify -q -nb "${EDITS[@]}"
            ;;
        dcmodify-each)
            find "$out" -type f -print0 | xargs -0 -P "$JOBS" -n 1 dcmodify -q -nb "${EDITS[@]}"
            ;;
        cp)
            cp -r "$archive" "$out"
            ;;
    esac >&2
    sync
}

# time_one TOOL ARCHIVE OUT: prints "WALL CPU", the seconds of one timed run of TOOL writing
# into OUT (a new folder) and the CPU seconds (user + system) it and its children used.
time_one() {
    local tool=$1 archive=$2 out=$3 t0 t1 cpu
    case $tool in
        dcmodify | dcmodify-each) cp -r "$archive" "$out" ;; # the copy is not timed
    esac
    settle
    cpu=$(mktemp)
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$cpu" bash -c "$(declare -f run_tool); $(declare -p KAMEI KEY JOBS EDITS); run_tool \"\$@\"" \
        _ "$tool" "$archive" "$out"
    t1=$(now)
    printf '%.3f %.2f\n' "$(echo "$t1 - $t0" | bc -l)" "$(awk '{print $1 + $2}' "$cpu")"
    rm -f "$cpu"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

TOOLS=(kamei cp+dcmodify dcmodify dcmodify-each cp)
declare -A TIMES CPU
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for size in $SIZES; do
    archive="$WORK/archive-$size-$N"
    if [ ! -f "$archive.done" ]; then
        rm -rf "$archive"
        cargo run --release --quiet --example synth -- "$archive" "$N" --size "$size"
        touch "$archive.done"
    fi
done
need=0
for size in $SIZES; do
    need=$((need + 5 * ROUNDS * $(du -sk "$WORK/archive-$size-$N" | cut -f1)))
done
avail=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
[ "$avail" -gt "$need" ] || { echo "throughput.sh: needs $((need / 1048576)) GB free in $WORK" >&2; exit 2; }
for size in $SIZES; do
    archive="$WORK/archive-$size-$N"
    for ((r = 1; r <= ROUNDS; r++)); do
        for ((i = 0; i < ${#TOOLS[@]}; i++)); do
            tool=${TOOLS[(i + r - 1) % ${#TOOLS[@]}]}
            out="$WORK/scratch/$size/$tool-$r"
            mkdir -p "$(dirname "$out")"
            read -r s c < <(time_one "$tool" "$archive" "$out")
            TIMES[$size,$tool]+="$s "
            CPU[$size,$tool]+="$c "
            printf '  size %s round %d %-13s %6.2f s, %6.2f s CPU\n' "$size" "$r" "$tool" "$s" "$c" >&2
        done
        # Check the kamei output: every input written.
        written=$(find "$WORK/scratch/$size/kamei-$r" -name '*.dcm' | wc -l)
        [ "$written" -eq "$N" ] || { echo "throughput.sh: kamei wrote $written of $N files" >&2; exit 1; }
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$WORK/scratch"

commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml || echo "-dirty")
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM, $(uname -sr), $(df -T "$WORK" | awk 'NR==2 {print $2}') at $WORK"
echo "commit:  $commit ($("$KAMEI" --version)), $(dcmodify --version 2>&1 | head -1)"
echo "threads: kamei -j $JOBS; dcmodify through xargs -P $JOBS; $ROUNDS rounds, median"
echo "load:    $load_start at the start, $load_end at the end (1, 5, 15 min)"
printf '%-5s %-13s %6s %9s %9s %9s %9s %9s   %s\n' size tool files MB seconds files/s MB/s "CPU s" "rounds (s)"
for size in $SIZES; do
    archive="$WORK/archive-$size-$N"
    bytes=$(find "$archive" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
    mb=$(echo "$bytes / 1000000" | bc -l)
    for tool in "${TOOLS[@]}"; do
        m=$(echo "${TIMES[$size,$tool]}" | tr ' ' '\n' | grep . | median)
        c=$(echo "${CPU[$size,$tool]}" | tr ' ' '\n' | grep . | median)
        printf '%-5s %-13s %6d %9.1f %9.2f %9.0f %9.1f %9.2f   %s\n' "$size" "$tool" "$N" "$mb" "$m" \
            "$(echo "$N / $m" | bc -l)" "$(echo "$mb / $m" | bc -l)" "$c" "${TIMES[$size,$tool]}"
    done
done
