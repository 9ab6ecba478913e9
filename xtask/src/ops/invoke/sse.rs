//! Server-sent events, as agents stream them (`data:` lines, an optional `event:` name).

#[derive(Debug, PartialEq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

/// Server-sent events from a byte stream split anywhere.
#[derive(Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    name: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(Event {
                        name: self.name.take(),
                        data: std::mem::take(&mut self.data).join("\n"),
                    });
                }
                self.name = None;
            } else if let Some(data) = line.strip_prefix("data:") {
                self.data
                    .push(data.strip_prefix(' ').unwrap_or(data).to_string());
            } else if let Some(name) = line.strip_prefix("event:") {
                self.name = Some(name.trim().to_string());
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_anywhere() {
        let stream = b"data: {\"delta\":\"He\"}\n\ndata: {\"delta\":\"llo\"}\r\n\r\nevent: error\ndata: {\"error\":1}\n\n";
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for piece in stream.chunks(5) {
            events.extend(parser.push(piece));
        }
        assert_eq!(events.len(), 3);
        assert_eq!(events[1].data, "{\"delta\":\"llo\"}");
        assert_eq!(events[2].name.as_deref(), Some("error"));
    }
}
