// Plain-text tables for human output (see table.hpp).
#include "tokenctl/table.hpp"

#include <algorithm>

namespace tka::tokenctl {

namespace {

constexpr const char* kGap = "  ";

std::size_t display_width(const std::string& s) {
    // UTF-8 continuation bytes are 10xxxxxx; count every other byte.
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

std::string printable(const std::string& s) {
    std::string result = s;
    for (char& c : result) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            c = '?';
        }
    }
    return result;
}

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {}

void Table::add_row(std::vector<std::string> row) {
    row.resize(header_.size());
    for (auto& cell : row) {
        cell = printable(cell);
    }
    rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> widths(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], display_width(row[i]));
        }
    };
    measure(header_);
    for (const auto& row : rows_) {
        measure(row);
    }
    auto emit = [&](const std::vector<std::string>& row) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line.append(widths[i] - display_width(row[i]), ' ');
                line += kGap;
            }
        }
        out << line << '\n';
    };
    emit(header_);
    for (const auto& row : rows_) {
        emit(row);
    }
}

}  // namespace tka::tokenctl
