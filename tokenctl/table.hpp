// A plain-text table for human output: a header row, then rows, columns left-aligned and
// separated by two spaces. Widths count UTF-8 code points; control characters in cells are
// shown as '?' so stored names cannot drive the terminal.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace tka::tokenctl {

class Table {
  public:
    explicit Table(std::vector<std::string> header);
    void add_row(std::vector<std::string> row);  // padded or cut to the header's width
    void print(std::ostream& out) const;
    bool empty() const { return rows_.empty(); }

  private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// `s` with every control character replaced by '?'.
std::string printable(const std::string& s);

}  // namespace tka::tokenctl
