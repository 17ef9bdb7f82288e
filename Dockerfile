# The service image. Build context: the repository root (the local package folder and nuget.config are needed).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY global.json nuget.config Directory.Build.props Directory.Packages.props .editorconfig ./
COPY ops/local-packages/*.nupkg ops/local-packages/
COPY src/Projections.Api/Projections.Api.csproj src/Projections.Api/
RUN dotnet restore src/Projections.Api/Projections.Api.csproj
COPY src/ src/
RUN dotnet publish src/Projections.Api/Projections.Api.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "Projections.Api.dll"]
