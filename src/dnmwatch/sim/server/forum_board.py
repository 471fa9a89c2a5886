"""The content of a simulated drug forum's market sub-forum, derived from a world.

Why: forum sales threads are where vendors advertise beside (and after) marketplaces, and where
buyers review them; an extractor needs a corpus whose truth is known. Modelled on the "vendor
threads" of darknet drug forums' market sub-forums:

* each chosen vendor (an account of one market of the world) opens a ``[Vendor]`` thread with
  its **price list**: the account's listings live that day at that day's tier-0 price, one line
  each (``• <title> — <price> <currency>``); every :attr:`ForumSpec.update_days` days while the
  account is active it posts an updated list (prices change, listings come and go);
* some vendors post their **PGP public key** with its printed fingerprint in the first post;
  some **sign** their updates (a clear-signed message whose signature packet carries the
  issuer-fingerprint subpacket, as GnuPG writes it);
* buyers **review** the vendor in its thread (``Review for <title> by @<vendor>``, a
  ``Rating: N/5`` line, the text): a share of the world's feedback of that vendor, posted a few
  hours after the market feedback, by a forum user name (which an extractor must drop);
* buyers ask questions that vendors answer without prices, and general threads hold chatter.

Everything is a pure function of the world and the :class:`ForumSpec` (its own seeded stream);
the board keeps every post with its posting time, so a page shows what was posted by the clock.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from dnmwatch.errors import SimulationError
from dnmwatch.sim.rng import pick, stream
from dnmwatch.sim.server.index import Listing, Vendor, WorldIndex
from dnmwatch.sim.server.text import _crc24, pgp_block, spaced_fingerprint

_NAME_A = ("night", "blue", "green", "ghost", "river", "lucky", "frosty", "silent", "cosmic",
           "lazy", "happy", "dark", "mellow", "quiet")
_NAME_B = ("owl", "fox", "wolf", "cat", "panda", "raven", "tiger", "otter", "moth", "badger")
_QUESTIONS = ("Do you ship to {c}?", "How long does shipping to {c} usually take?",
              "Any restock planned soon?", "Is the stealth good for {c}?")
_ANSWERS = ("Yes, we ship there. Check the list above.", "Usually 3-5 days, tracked.",
            "Restock next week, stay tuned.", "Stealth is vacuum sealed, never had issues.")
_GENERAL = (
    ("Which vendor for good hash?", ("Looking for recommendations, any tips?",
                                     "Check the vendor threads, reviews are there.",
                                     "Avoid anyone without a PGP key.")),
    ("Scam warning thread", ("Post scammers here with proof.", "Got exit scammed last month.",
                             "Always verify the signature on price lists.")),
    ("Market status discussion", ("Is the market down for anyone else?",
                                  "Works for me, slow though.", "Mirrors are on the wiki.")),
    ("Harm reduction: test your stuff", ("Reagent kits are cheap, use them.",
                                         "Start low, go slow.", "Good advice, thanks.")),
)
COUNTRIES = ("DE", "NL", "UK", "FR", "US", "AU", "ES")


@dataclass(frozen=True, slots=True)
class ForumSpec:
    """A forum whose vendor threads advertise the accounts of one market of the world."""

    market: str
    """The world market whose vendor accounts (listings, prices, feedback) the forum mirrors."""
    name: str = "forum"
    vendors: int = 8
    """How many vendors open a thread (the accounts with the most listings)."""
    review_share: float = 0.25
    """Share of a vendor's market feedback that its buyers also post as forum reviews."""
    update_days: int = 10
    key_share: float = 0.6
    """Share of vendors whose first post carries their PGP public key and fingerprint."""
    sign_share: float = 0.5
    """Share of vendors who clear-sign their price-list updates."""
    seed: int = 0

    @property
    def site(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ForumOffer:
    """One price-list line of a post (the truth of one listing observation)."""

    post_id: int
    thread_id: int
    vendor: str
    listing_id: str
    title: str
    price: float
    currency: str
    posted_ts: int
    signed: bool


@dataclass(frozen=True, slots=True)
class ForumReview:
    """One buyer review post (the truth of one feedback observation)."""

    post_id: int
    thread_id: int
    vendor: str
    listing_id: str
    feedback_id: int
    title: str
    rating: int
    text: str
    posted_ts: int
    buyer: str


@dataclass(frozen=True, slots=True)
class ForumKey:
    """A vendor's fingerprint made findable by a post (a key block or a signature)."""

    post_id: int
    vendor: str
    fingerprint: str
    how: str
    """``key`` (armoured key with its printed fingerprint) or ``signature`` (issuer subpacket)."""


@dataclass(frozen=True, slots=True)
class Post:
    post_id: int
    thread_id: int
    author: str
    posted_ts: int
    lines: tuple[str, ...]
    """Plain-text lines of the post body (rendered escaped, one per line)."""
    code: tuple[str, ...] = ()
    """Pre-formatted blocks: an armoured key, a clear-signed price list."""
    vendor: bool = False


@dataclass(slots=True)
class Thread:
    thread_id: int
    title: str
    author: str
    posts: list[Post] = field(default_factory=list)

    def visible(self, now_ts: int) -> list[Post]:
        return [p for p in self.posts if p.posted_ts <= now_ts]


@dataclass(slots=True)
class Board:
    spec: ForumSpec
    threads: list[Thread]
    offers: list[ForumOffer]
    reviews: list[ForumReview]
    keys: list[ForumKey]

    def thread(self, thread_id: int) -> Thread | None:
        return next((t for t in self.threads if t.thread_id == thread_id), None)

    def visible_threads(self, now_ts: int) -> list[tuple[Thread, list[Post]]]:
        """Threads started by ``now_ts``, most recently active first (bumping)."""
        out = [(t, t.visible(now_ts)) for t in self.threads]
        shown = [(t, posts) for t, posts in out if posts]
        return sorted(shown, key=lambda tp: (-tp[1][-1].posted_ts, tp[0].thread_id))


def price_text(amount: float, currency: str) -> str:
    return f"{amount:.8f} BTC" if currency == "BTC" else f"{amount:,.2f} {currency}"


def pgp_signature(fingerprint: str, ts: int) -> str:
    """An armoured v4 signature packet carrying the issuer-fingerprint subpacket (type 33).

    GnuPG 2.2+ writes that subpacket in every signature, so a clear-signed forum post names its
    signer's full fingerprint even without a key. The signature value is pseudo-random (nothing
    here can be verified); the packet structure is real (RFC 4880 5.2.3, RFC 9580 5.2.3.35).
    """
    fpr = bytes.fromhex(fingerprint)
    hashed = bytes([5, 2]) + ts.to_bytes(4, "big") + bytes([22, 33, 4]) + fpr
    unhashed = bytes([9, 16]) + fpr[-8:]
    value = hashlib.sha512(fpr + ts.to_bytes(8, "big")).digest()
    body = (bytes([4, 0x01, 1, 8]) + len(hashed).to_bytes(2, "big") + hashed
            + len(unhashed).to_bytes(2, "big") + unhashed + value[:2]
            + (len(value) * 8).to_bytes(2, "big") + bytes([value[0] | 0x80]) + value[1:])
    packet = bytes([0xC2, len(body)]) + body
    b64 = base64.b64encode(packet).decode()
    crc = base64.b64encode(_crc24(packet).to_bytes(3, "big")).decode()
    return "\n".join(["-----BEGIN PGP SIGNATURE-----", "",
                      *(b64[i:i + 64] for i in range(0, len(b64), 64)), f"={crc}",
                      "-----END PGP SIGNATURE-----"])


class _Builder:
    def __init__(self, world: WorldIndex, spec: ForumSpec) -> None:
        if spec.market not in world.markets:
            raise SimulationError(f"no market {spec.market!r} for forum {spec.name!r}")
        self.world, self.spec = world, spec
        self.market = world.markets[spec.market]
        self.rng = stream(world.config.seed * 1009 + spec.seed, f"forum/{spec.name}")
        self.posts: list[Post] = []
        self.offers: list[ForumOffer] = []
        self.reviews: list[ForumReview] = []
        self.keys: list[ForumKey] = []
        start = datetime.combine(world.config.start, time(0), UTC)
        self.t0 = int(start.timestamp())
        self.last_ts = self.t0 + world.config.days * 86400 - 1
        self._pending: list[tuple[Post, list[tuple[Listing, float]], bool, str]] = []
        self._reviews: list[tuple[Post, Listing, int, int, str, str]] = []

    def ts(self, day: int, hours: float) -> int:
        return self.t0 + day * 86400 + int(hours * 3600)

    def user(self) -> str:
        rng = self.rng
        return f"{pick(rng, _NAME_A)}{pick(rng, _NAME_B)}{int(rng.integers(10, 100))}"

    def post(self, thread: Thread, author: str, ts: int, lines: tuple[str, ...],
             code: tuple[str, ...] = (), vendor: bool = False) -> Post:
        p = Post(0, thread.thread_id, author, min(ts, self.last_ts), lines, code, vendor)
        thread.posts.append(p)
        return p

    def live(self, listings: list[Listing], vendor: Vendor, day: int) -> list[Listing]:
        return [x for x in listings if x.live(day) and vendor.active(day)]

    def vendor_thread(self, thread: Thread, vendor: Vendor, listings: list[Listing]) -> None:
        rng, spec = self.rng, self.spec
        end = min(d for d in (vendor.leave, self.market.spec.end_day, self.world.config.days)
                  if d is not None)
        first = next((d for d in range(vendor.join, end) if self.live(listings, vendor, d)), None)
        if first is None:
            return
        shows_key = bool(rng.random() < spec.key_share)
        signs = bool(rng.random() < spec.sign_share)
        day, n = first, 0
        while day < end:
            live = self.live(listings, vendor, day)
            if live:
                self.price_post(thread, vendor, live, day, first=n == 0, key=shows_key,
                                signed=signs and n > 0)
                n += 1
            day += spec.update_days
        for _ in range(2):
            qday = int(rng.integers(first, end))
            asker, q = self.user(), pick(rng, _QUESTIONS).format(c=pick(rng, COUNTRIES))
            self.post(thread, asker, self.ts(qday, float(rng.uniform(9, 20))), (q,))
            self.post(thread, vendor.handle, self.ts(qday, float(rng.uniform(21, 23.9))),
                      (pick(rng, _ANSWERS),), vendor=True)
        for x in listings:
            for f in x.feedback:
                if rng.random() < spec.review_share:
                    self.review_post(thread, vendor, x, f.posted_ts, f.feedback_id, f.rating,
                                     f.text)

    def price_post(self, thread: Thread, vendor: Vendor, live: list[Listing], day: int, *,
                   first: bool, key: bool, signed: bool) -> None:
        rng = self.rng
        ts = self.ts(day, float(rng.uniform(8, 20)))
        lines = tuple(f"• {x.title} — {price_text(x.price_on(day), x.currency)}" for x in live)
        head = ("Welcome to my thread. Current price list:" if first else
                f"Update {self.world.config.day_date(day):%d.%m}: prices below.")
        code: tuple[str, ...] = ()
        body: tuple[str, ...] = (head, *lines)
        if first and key:
            body = (*body, f"Fingerprint: {spaced_fingerprint(vendor.fingerprint)}",
                    "My PGP key:")
            code = (pgp_block(vendor.fingerprint),)
        elif signed:
            clear = "\n".join(["-----BEGIN PGP SIGNED MESSAGE-----", "Hash: SHA256", "",
                               *lines, pgp_signature(vendor.fingerprint, ts)])
            body, code = (head, "Signed list:"), (clear,)
        p = self.post(thread, vendor.handle, ts, body, code, vendor=True)
        self._pending.append((p, [(x, x.price_on(day)) for x in live], bool(code) and not first,
                              "key" if first and key else "signature" if signed else ""))

    def review_post(self, thread: Thread, vendor: Vendor, x: Listing, fb_ts: int, fid: int,
                    rating: int, text: str) -> None:
        ts = fb_ts + int(self.rng.integers(3600, 48 * 3600))
        if ts > self.last_ts:
            return
        buyer = self.user()
        lines = (f"Review for {x.title} by @{vendor.handle}", f"Rating: {rating}/5",
                 " ".join(text.split()) or "-")
        p = self.post(thread, buyer, ts, lines)
        self._reviews.append((p, x, fid, rating, lines[2], buyer))

    def build(self) -> Board:
        counts: dict[str, int] = {}
        for x in self.market.listings.values():
            counts[x.vendor] = counts.get(x.vendor, 0) + 1
        chosen = sorted((h for h, n in counts.items() if n >= 2 and h in self.market.vendors),
                        key=lambda h: (-counts[h], h))[:self.spec.vendors]
        threads: list[Thread] = []
        for handle in chosen:
            vendor = self.market.vendors[handle]
            listings = sorted((x for x in self.market.listings.values() if x.vendor == handle),
                              key=lambda x: (x.start, x.listing_id))
            thread = Thread(0, f"[Vendor] {handle} — price list, reviews, questions", handle)
            self.vendor_thread(thread, vendor, listings)
            if thread.posts:
                threads.append(thread)
        for title, lines in _GENERAL:
            thread = Thread(0, title, self.user())
            day = int(self.rng.integers(0, max(self.world.config.days - 1, 1)))
            for i, line in enumerate(lines):
                author = thread.author if i == 0 else self.user()
                self.post(thread, author, self.ts(day + i, float(self.rng.uniform(0, 23))),
                          (line,))
            threads.append(thread)
        return self._number(threads)

    def _number(self, threads: list[Thread]) -> Board:
        """Give threads and posts ids in time order (as a forum's database would)."""
        for t in threads:
            t.posts.sort(key=lambda p: (p.posted_ts, p.author, p.lines))
        threads.sort(key=lambda t: (t.posts[0].posted_ts, t.title))
        everything = sorted(((p.posted_ts, ti, pi) for ti, t in enumerate(threads)
                             for pi, p in enumerate(t.posts)))
        renumbered: dict[int, Post] = {}
        for n, (_, ti, pi) in enumerate(everything, 1):
            old = threads[ti].posts[pi]
            new = Post(n, ti + 1, old.author, old.posted_ts, old.lines, old.code, old.vendor)
            threads[ti].posts[pi] = new
            renumbered[id(old)] = new
        for ti, t in enumerate(threads):
            t.thread_id = ti + 1
        offers: list[ForumOffer] = []
        keys: list[ForumKey] = []
        for old, items, signed, how in self._pending:
            p = renumbered[id(old)]
            offers.extend(ForumOffer(p.post_id, p.thread_id, p.author, x.listing_id, x.title,
                                     price, x.currency, p.posted_ts, signed)
                          for x, price in items)
            vendor = self.market.vendors[p.author]
            if how:
                keys.append(ForumKey(p.post_id, p.author, vendor.fingerprint, how))
        reviews = []
        for old, x, fid, rating, text, buyer in self._reviews:
            p = renumbered[id(old)]
            reviews.append(ForumReview(p.post_id, p.thread_id, x.vendor, x.listing_id, fid,
                                       x.title, rating, text, p.posted_ts, buyer))
        return Board(self.spec, threads, offers, reviews, keys)


def build_board(world: WorldIndex, spec: ForumSpec) -> Board:
    """The forum's threads, posts and truth (offers, reviews, keys) for a world index."""
    return _Builder(world, spec).build()
