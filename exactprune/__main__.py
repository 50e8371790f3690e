from exactprune.cli import main

raise SystemExit(main())
