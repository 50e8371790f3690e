from exactprune.entry import main

raise SystemExit(main())
