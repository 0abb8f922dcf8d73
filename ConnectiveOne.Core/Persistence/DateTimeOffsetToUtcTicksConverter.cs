using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace ConnectiveOne.Core.Persistence;

/// <summary>Stores a <see cref="DateTimeOffset"/> as UTC ticks, which SQLite can index and compare.</summary>
public sealed class DateTimeOffsetToUtcTicksConverter() : ValueConverter<DateTimeOffset, long>(
    v => v.UtcTicks,
    v => new DateTimeOffset(v, TimeSpan.Zero));
