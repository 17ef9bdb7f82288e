using Projections.Referrals;
using System.Globalization;
using Projections.ReadModels;

namespace Projections.Analytics;

/// <summary>
/// The referral side of one batch of <see cref="ReferralAnalyticsProjection"/>. A store sale is attributed to the visitor's latest click to the same store
/// at or before it and at most 30 days before it (ties: the greater referral id), whatever the order events arrive in;
/// attribution is worked out from the visitor's days: the sale's own day's clicks, and the last click of each of the 30
/// days before it from the calendar. A new click can only take over sales of its own day after it, and the "early"
/// sales (before any click of their day) of the 30 days after it, which the calendar points to. So a batch reads the
/// days its events fall on, plus the few an out-of-order click reaches, and the cost of an event does not grow with how
/// many clicks the visitor has made.
/// </summary>
public sealed class ReferralAttribution
{
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);
    private const int WindowDays = 30;

    private readonly List<(string Key, ReferralClicked Click)> _clicks = [];
    private readonly List<(string Key, ArtistStoreOrderCompleted Sale)> _sales = [];
    private readonly Dictionary<string, ReferralCalendar> _calendars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReferralDay> _days = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, (DateTimeOffset At, bool Converted, decimal Revenue)>> _before = new(StringComparer.Ordinal);
    private readonly HashSet<string> _changedDays = new(StringComparer.Ordinal);
    private readonly HashSet<string> _changedCalendars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _unsummarized = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ReferralDay>> _daysByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<ReferralDay, Dictionary<string, DayClick>> _clickIndexes = [];

    /// <summary>One visitor's activity at one store.</summary>
    public static string Key(string visitorId, string orgId) => $"{visitorId.Length}:{visitorId}|{orgId}";

    public bool IsEmpty => _clicks.Count == 0 && _sales.Count == 0;

    public void Add(ReferralClicked click) => _clicks.Add((Key(click.VisitorId, click.OrgId), click));

    public void Add(ArtistStoreOrderCompleted sale) => _sales.Add((Key(sale.VisitorId, sale.OrgId), sale));

    public async Task ApplyAsync(IDocumentSource source, DocumentChanges result, List<DayChange> changes,
        CancellationToken cancellation)
    {
        if (IsEmpty)
        {
            return;
        }

        // 1. The calendars of every year within 30 days of an event.
        var events = _clicks.Select(c => (c.Key, At: c.Click.OccurredAt)).Concat(_sales.Select(s => (s.Key, At: s.Sale.OccurredAt))).ToList();
        await LoadCalendarsAsync(source, events.SelectMany(e => Years(DayOf(e.At)).Select(y => ReferralCalendar.IdOf(e.Key, y))), cancellation);

        // 2. The days of the events, and the days with early sales within 30 days after a new click.
        var days = new HashSet<string>(events.Select(e => ReferralDay.IdOf(e.Key, DayOf(e.At))), StringComparer.Ordinal);
        foreach (var (key, click) in _clicks)
        {
            foreach (var (day, summary) in DaysAfter(key, DayOf(click.OccurredAt)))
            {
                if (summary.FirstEarlySale is { } early && early <= click.OccurredAt + Window)
                {
                    days.Add(ReferralDay.IdOf(key, day));
                }
            }
        }

        await LoadDaysAsync(source, days.Select(id => (id, KeyOf(id))), cancellation);

        // 3. The new clicks and sales on their days (each day sorted once, however many arrive); then every sale they may
        //    change, attributed again.
        foreach (var arrivals in _clicks.GroupBy(c => ReferralDay.IdOf(c.Key, DayOf(c.Click.OccurredAt)), StringComparer.Ordinal))
        {
            var day = _days[arrivals.Key];
            var known = day.Clicks.Select(c => c.ReferralId).ToHashSet(StringComparer.Ordinal);
            var added = 0;
            foreach (var (_, e) in arrivals)
            {
                if (known.Add(e.ReferralId))
                {
                    day.Clicks.Add(new DayClick { ReferralId = e.ReferralId, At = e.OccurredAt });
                    added++;
                }
            }

            if (added > 0)
            {
                day.Clicks.Sort((a, b) => a.Ref.CompareTo(b.Ref));
                Changed(arrivals.First().Key, day);
            }
        }

        var recompute = new List<(string Key, ReferralDay Day, DaySale Sale)>();
        foreach (var arrivals in _sales.GroupBy(s => ReferralDay.IdOf(s.Key, DayOf(s.Sale.OccurredAt)), StringComparer.Ordinal))
        {
            var day = _days[arrivals.Key];
            var known = day.Sales.Select(s => s.OrderId).ToHashSet(StringComparer.Ordinal);
            foreach (var (key, e) in arrivals)
            {
                if (known.Add(e.OrderId))
                {
                    var sale = new DaySale { OrderId = e.OrderId, At = e.OccurredAt, Amount = e.Amount };
                    day.Sales.Add(sale);
                    recompute.Add((key, day, sale));
                    Changed(key, day);
                }
            }
        }

        // Summaries first: attribution reads the last click of earlier days from them, new clicks included.
        RefreshSummaries();

        // A sale is taken over by a new click at or before it and at most 30 days before it.
        foreach (var clicks in _clicks.GroupBy(c => c.Key, StringComparer.Ordinal))
        {
            var times = clicks.Select(c => c.Click.OccurredAt).Order().ToList();
            foreach (var day in _daysByKey[clicks.Key])
            {
                foreach (var sale in day.Sales)
                {
                    var at = times.BinarySearch(sale.At);
                    var latest = at >= 0 ? times[at] : ~at > 0 ? times[~at - 1] : (DateTimeOffset?)null;
                    if (latest is { } click && click >= sale.At - Window)
                    {
                        recompute.Add((clicks.Key, day, sale));
                    }
                }
            }
        }

        var moves = new List<(string Key, ReferralDay Day, DaySale Sale, ClickRef? To)>();
        foreach (var (key, day, sale) in recompute.DistinctBy(r => r.Sale))
        {
            var to = Attribute(key, day, sale.At);
            if (to != sale.Click)
            {
                moves.Add((key, day, sale, to));
            }
        }

        // 4. The clicks that lose or gain a sale may be on days not read yet.
        await LoadDaysAsync(source, moves.SelectMany(m => new[] { m.Sale.Click, m.To }.OfType<ClickRef>()
            .Select(c => (ReferralDay.IdOf(m.Key, DayOf(c.At)), m.Key))), cancellation);
        foreach (var (key, day, sale, to) in moves)
        {
            Credit(key, sale.Click, sale, -1);
            Credit(key, to, sale, +1);
            sale.Click = to;
            Changed(key, day);
        }

        // 5. What the changed days add up to, before and after; the documents to write.
        RefreshSummaries();
        foreach (var id in _changedDays)
        {
            var day = _days[id];
            // Only the clicks whose credit changed (a busy day keeps most of its clicks as they were).
            var before = _before[id];
            foreach (var click in day.Clicks)
            {
                var now = (click.At, Converted: click.Sales > 0, click.Revenue);
                if (before.TryGetValue(click.ReferralId, out var then))
                {
                    if (then == now)
                    {
                        continue;
                    }

                    changes.Add(new DayChange(then.At, ReferralDay.Figures(then.Converted, then.Revenue), -1));
                }

                changes.Add(new DayChange(now.At, ReferralDay.Figures(now.Converted, now.Revenue), +1));
            }

            result.Store(day);
        }

        result.Store(_changedCalendars.Select(id => _calendars[id]));
    }

    /// <summary>The latest click at or before the instant and at most 30 days before it: the sale's own day's, else the
    /// last click of the latest earlier day in the window.</summary>
    private ClickRef? Attribute(string key, ReferralDay day, DateTimeOffset at)
    {
        var best = day.LatestClickAtOrBefore(at);
        if (best is null)
        {
            foreach (var (_, summary) in DaysBefore(key, day.Day))
            {
                best = ClickRef.Latest(best, summary.LastClick);
            }
        }

        return best is not null && best.At >= at - Window ? best : null;
    }

    private void Credit(string key, ClickRef? click, DaySale sale, int sign)
    {
        if (click is null)
        {
            return;
        }

        var day = _days[ReferralDay.IdOf(key, DayOf(click.At))];
        if (!_clickIndexes.TryGetValue(day, out var index))
        {
            _clickIndexes[day] = index = day.Clicks.ToDictionary(c => c.ReferralId, StringComparer.Ordinal);
        }

        var credited = index.GetValueOrDefault(click.ReferralId)
                       ?? throw new InvalidOperationException($"Click {click.ReferralId} is not on its day {day.Day:yyyy-MM-dd}.");
        credited.Sales += sign;
        credited.Revenue += sign * sale.Amount;
        Changed(key, day);
    }

    private ReferralDay Day(string key, DateOnly day) => _days[ReferralDay.IdOf(key, day)];

    private void Changed(string key, ReferralDay day)
    {
        _changedDays.Add(day.Id);
        _unsummarized[day.Id] = key;
    }

    /// <summary>Brings the calendars up to date with the days changed since the last time.</summary>
    private void RefreshSummaries()
    {
        foreach (var (id, key) in _unsummarized)
        {
            var day = _days[id];
            var calendarId = ReferralCalendar.IdOf(key, day.Day.Year);
            _calendars.TryAdd(calendarId, new ReferralCalendar { Id = calendarId });
            _calendars[calendarId].Days[ReferralCalendar.DayKey(day.Day)] = day.Summary();
            _changedCalendars.Add(calendarId);
        }

        _unsummarized.Clear();
    }

    /// <summary>The visitor's days, from the calendars, in the 30 days before <paramref name="day"/>, latest first.</summary>
    private IEnumerable<(DateOnly Day, ReferralDaySummary Summary)> DaysBefore(string key, DateOnly day)
    {
        for (var d = day.AddDays(-1); d >= day.AddDays(-WindowDays); d = d.AddDays(-1))
        {
            if (Summary(key, d) is { } summary)
            {
                yield return (d, summary);
            }
        }
    }

    private IEnumerable<(DateOnly Day, ReferralDaySummary Summary)> DaysAfter(string key, DateOnly day)
    {
        for (var d = day.AddDays(1); d <= day.AddDays(WindowDays); d = d.AddDays(1))
        {
            if (Summary(key, d) is { } summary)
            {
                yield return (d, summary);
            }
        }
    }

    private ReferralDaySummary? Summary(string key, DateOnly day) =>
        _calendars.GetValueOrDefault(ReferralCalendar.IdOf(key, day.Year))?.Days.GetValueOrDefault(ReferralCalendar.DayKey(day));

    private async Task LoadCalendarsAsync(IDocumentSource source, IEnumerable<string> ids, CancellationToken cancellation)
    {
        var missing = ids.Where(id => !_calendars.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToList();
        var stored = await source.LoadManyAsync<ReferralCalendar>(missing, cancellation);
        foreach (var id in missing)
        {
            _calendars[id] = stored.GetValueOrDefault(id) ?? new ReferralCalendar { Id = id };
        }
    }

    private async Task LoadDaysAsync(IDocumentSource source, IEnumerable<(string Id, string Key)> days, CancellationToken cancellation)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, key) in days)
        {
            if (!_days.ContainsKey(id))
            {
                keys[id] = key;
            }
        }

        var missing = keys.Keys.ToList();
        var stored = await source.LoadManyAsync<ReferralDay>(missing, cancellation);
        foreach (var id in missing)
        {
            var day = stored.GetValueOrDefault(id)
                ?? new ReferralDay { Id = id, Day = DateOnly.ParseExact(id[(id.LastIndexOf('|') + 1)..], "yyyy-MM-dd", CultureInfo.InvariantCulture) };
            _days[id] = day;
            _before[id] = day.Credits();
            (_daysByKey.TryGetValue(keys[id], out var ofKey) ? ofKey : _daysByKey[keys[id]] = []).Add(day);
        }
    }

    /// <summary>The visitor and store of a day's id (<c>{key}|yyyy-MM-dd</c>).</summary>
    private static string KeyOf(string dayId) => dayId[..dayId.LastIndexOf('|')];

    private static DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);

    /// <summary>The years a day's 30-day windows reach into (its own, and a neighbour near new year).</summary>
    private static IEnumerable<int> Years(DateOnly day) => new[] { day.AddDays(-WindowDays).Year, day.Year, day.AddDays(WindowDays).Year }.Distinct();
}
