// The bare processes ops/bench measures beside the service (README, "Benchmark"). One mode per process, each a Kestrel
// app with its one handler and nothing else: no routing, no middleware, no authentication, no logging. It listens on a
// free loopback port and prints its address as its first line of output, for the benchmark to read.
//   ceiling --answers MANIFEST                                             the bytes of the measured answers (Ceiling.cs)
//   stored-document --schema S --document ALIAS --tenant SLOT --id ID      a document by primary key (StoredDocument.cs)
//   daily-rollup --buckets TABLE --tenant SLOT --referral-buckets TABLE --referral-tenant SLOT --statuses a,b,...
//                                                                          SQL over a daily rollup (DailyRollup.cs)
// The peers connect to the database in ConnectionStrings__Postgres.
using Projections.Bench.Bare;

var mode = args.FirstOrDefault() ?? "";
string Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? throw new ArgumentException($"{mode}: {name} is missing");
string Database() => Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
                     ?? throw new ArgumentException($"{mode}: set ConnectionStrings__Postgres");

var handler = mode switch
{
    "ceiling" => Ceiling.Handler(Arg("--answers")),
    "stored-document" => StoredDocument.Handler(Database(), Arg("--schema"), Arg("--document"), Arg("--tenant"), Arg("--id")),
    "daily-rollup" => await DailyRollup.CreateAsync(Database(), Arg("--buckets"), Arg("--tenant"), Arg("--referral-buckets"),
        Arg("--referral-tenant"), Arg("--statuses").Split(',')),
    _ => throw new ArgumentException($"Unknown mode '{mode}': ceiling, stored-document or daily-rollup"),
};

var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
var app = builder.Build();
app.Run(handler);
await app.StartAsync();
Console.WriteLine(app.Urls.First());
await app.WaitForShutdownAsync();
