/*
 * Bazar's election and commit rules for three replicas, checked with spin (scripts/check-model).
 *
 * MAJORITY=1: the majority rules for three or more replicas (docs/consistency.md). A candidate
 *   starts a term by voting for itself; a replica votes once per term (the vote is stored before
 *   it is given, so a crash does not forget it), and only for a candidate whose log is at least as
 *   up to date as its own (last entry's term, then length); a majority of votes makes a leader,
 *   whose first act is to append its term's first entry. A write is acknowledged once a majority
 *   (the leader included) holds it, and only an entry of the leader's own term is acknowledged.
 * MAJORITY=0: today's pair rules run with three replicas, the configuration issue 11 found unsafe.
 *   A replica that hears no leader takes over when it is the most up to date of the replicas it
 *   reaches (in a term above any it knows); a leader acknowledges with the followers it reaches
 *   (it drops the others after a lease). spin must find the lost acknowledged write.
 *
 * Properties: at most one leader per term; the log of every leader of a later term than the one
 * that acknowledged an entry holds that entry (a leader of an older term may still win its votes
 * late, and holds nothing it can acknowledge: any majority has a replica of a newer term); an
 * acknowledged entry never changes.
 *
 * Not modelled: time (leases and timeouts are why a step may or may not happen, and any step may
 * happen or not, so every interleaving a partition, a pause or a lost message allows is covered);
 * reads and read leases; messages that arrive late (an exchange is one atomic step: a push and its
 * answer, a vote request and its answer); snapshots and compaction; more than three replicas.
 */

#define N 3
#ifndef MAXTERM
#define MAXTERM 3
#endif
#ifndef MAXLOG
#define MAXLOG 2
#endif
#define NONE 255
#ifndef MAJORITY
#define MAJORITY 1
#endif

byte term[N];
byte votedFor[N];
bool leader[N];
bool candidate[N];
byte votes[N];               /* bit j set: j voted for this candidate in its term */
byte logLen[N];
byte logTerm[N * MAXLOG];    /* logTerm[i*MAXLOG + k]: term of i's entry k */
byte match[N * N];           /* match[i*N + j]: entries of i's log that j holds, as i knows */

/* Ghost state, for the properties only. */
byte leaderOf[MAXTERM + 1];
byte ackedLen;
byte ackedTerm[MAXLOG];
byte ackedIn[MAXLOG];        /* term of the leader that first acknowledged entry k */

#define LASTTERM(i) (logLen[i] == 0 -> 0 : logTerm[(i) * MAXLOG + logLen[i] - 1])
#define UPTODATE(c, v) (LASTTERM(c) > LASTTERM(v) || (LASTTERM(c) == LASTTERM(v) && logLen[c] >= logLen[v]))
#define VOTECOUNT(i) (((votes[i] >> 0) & 1) + ((votes[i] >> 1) & 1) + ((votes[i] >> 2) & 1))

/* A new leader: one per term, holding every entry acknowledged in an earlier term; its term's
   first entry. */
inline takeOver(i) {
    assert(leaderOf[term[i]] == NONE || leaderOf[term[i]] == i);
    leaderOf[term[i]] = i;
    k = 0;
    do
    :: k < ackedLen -> assert(term[i] <= ackedIn[k] || (logLen[i] > k && logTerm[i * MAXLOG + k] == ackedTerm[k])); k++
    :: else -> break
    od;
    leader[i] = true;
    candidate[i] = false;
    if
    :: logLen[i] < MAXLOG -> logTerm[i * MAXLOG + logLen[i]] = term[i]; logLen[i]++
    :: else -> skip
    fi;
    j = 0;
    do
    :: j < N && j == i -> match[i * N + j] = logLen[i]; j++
    :: j < N && j != i -> match[i * N + j] = 0; j++
    :: else -> break
    od
}

/* `i` acknowledges the first `len` entries of its log to clients. */
inline acknowledge(i, count) {
    k = 0;
    do
    :: k < count && k < ackedLen -> assert(ackedTerm[k] == logTerm[i * MAXLOG + k]); k++
    :: k < count && k >= ackedLen -> ackedTerm[k] = logTerm[i * MAXLOG + k]; ackedIn[k] = term[i]; k++
    :: else -> break
    od;
    if
    :: count > ackedLen -> ackedLen = count
    :: else -> skip
    fi
}

active proctype Replicas() {
    byte i, j, k, count, newTerm;
    i = 0;
    do
    :: i < N -> votedFor[i] = NONE; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i <= MAXTERM -> leaderOf[i] = NONE; i++
    :: else -> break
    od;

    do
    /* Any replica may act on any other, or not: partitions, pauses and lost messages. */
    :: atomic {
           select(i : 0 .. N - 1); select(j : 0 .. N - 1);
           if
           /* A message from i shows j a newer term: j adopts it and steps down. */
           :: i != j && term[i] > term[j] ->
              term[j] = term[i]; votedFor[j] = NONE; leader[j] = false; candidate[j] = false; votes[j] = 0

           /* The leader i pushes its log to j, which takes it; i learns how far j holds it. */
           :: i != j && leader[i] && term[i] == term[j] ->
              leader[j] = false; candidate[j] = false;
              logLen[j] = logLen[i];
              k = 0;
              do
              :: k < logLen[i] -> logTerm[j * MAXLOG + k] = logTerm[i * MAXLOG + k]; k++
              :: else -> break
              od;
              match[i * N + j] = logLen[i]

           /* A client write reaches the leader i. */
           :: i == j && leader[i] && logLen[i] < MAXLOG ->
              logTerm[i * MAXLOG + logLen[i]] = term[i]; logLen[i]++; match[i * N + i] = logLen[i]

           /* The leader i acknowledges what a majority holds (itself and j), of its own term. */
           :: MAJORITY && i != j && leader[i] && match[i * N + j] > 0 && logTerm[i * MAXLOG + match[i * N + j] - 1] == term[i] ->
              count = match[i * N + j]; acknowledge(i, count)

           /* Pair rules: the leader acknowledges alone, having dropped followers it cannot reach. */
           :: !MAJORITY && i == j && leader[i] && logLen[i] > 0 && LASTTERM(i) == term[i] ->
              count = logLen[i]; acknowledge(i, count)

           /* i stands for election in a new term, with its own vote (stored). */
           :: MAJORITY && i == j && !leader[i] && term[i] < MAXTERM ->
              term[i]++; votedFor[i] = i; candidate[i] = true; votes[i] = 1 << i

           /* j votes for the candidate i: once per term, only for a log as up to date as its own. */
           :: MAJORITY && i != j && candidate[i] && term[i] == term[j] && (votedFor[j] == NONE || votedFor[j] == i) && UPTODATE(i, j) ->
              votedFor[j] = i; votes[i] = votes[i] | (1 << j)

           /* A majority of votes makes i the leader of its term. */
           :: MAJORITY && i == j && candidate[i] && VOTECOUNT(i) >= 2 ->
              takeOver(i)

           /* Pair rules: i reaches only j (or nobody, j == i), finds no leader, and is the more up
              to date (the lower-numbered on a tie): it takes over in a term above both. */
           :: !MAJORITY && !leader[i] && !(i != j && leader[j]) && LASTTERM(i) >= term[i] &&
              (i == j || (LASTTERM(i) > LASTTERM(j) || (LASTTERM(i) == LASTTERM(j) && (logLen[i] > logLen[j] || (logLen[i] == logLen[j] && i < j))))) ->
              if
              :: term[j] > term[i] -> newTerm = term[j] + 1
              :: else -> newTerm = term[i] + 1
              fi;
              if
              :: newTerm <= MAXTERM -> term[i] = newTerm; takeOver(i)
              :: else -> skip
              fi

           /* i crashes and restarts: its term, vote and log are on disk, the rest is gone. */
           :: i == j && (leader[i] || candidate[i]) ->
              leader[i] = false; candidate[i] = false; votes[i] = 0

           /* Nothing i can do to j now: choose again (an atomic step never blocks). */
           :: else -> skip
           fi
       }
    od
}
